// Release check of every prebuild the tarball carries (docs/RELEASING.md):
//   - it is an ELF shared object for its architecture, stripped;
//   - the symbol versions it needs are no newer than the baseline, Debian 12
//     (glibc 2.36, GCC 12's libstdc++ and libgcc_s);
//   - it needs no library beyond libc, libm, libgcc_s and libstdc++;
//   - it imports only Node-API 8 functions (napi_*): every node_api_* one is
//     newer or experimental, and Node 20.0 lacks them (binding.gyp sets
//     NAPI_VERSION=8; native/addon/glue.h says why not experimental);
//   - it loads, and every kernel it runs encodes like the portable kernel
//     (x64 in this Node; arm64 in the registry's arm64 Node under qemu-aarch64).
//
//   node scripts/check-prebuilds.js [DIR]   (DIR: the package root, default ..)
// Exit 1 with one line per problem.
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const TARGETS = [
  { file: 'prebuilds/linux-x64/xbzrle.glibc.node', arch: 'x64', machine: 'X86-64', kernels: ['sse2'] },
  { file: 'prebuilds/linux-arm64/xbzrle.glibc.node', arch: 'arm64', machine: 'AArch64', kernels: ['neon'] },
];

/** The newest symbol version each library may be asked for. */
const BASELINE = {
  GLIBC: '2.36', // Debian 12
  GLIBCXX: '3.4.30', // GCC 12
  CXXABI: '1.3.13', // GCC 12
  GCC: '12.0.0', // libgcc_s
};
const LIBRARIES = ['libc.so.6', 'libm.so.6', 'libgcc_s.so.1', 'libstdc++.so.6'];

function cmp(a, b) {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

function readelf(args, file) {
  return execFileSync('readelf', ['-W', ...args, file], { encoding: 'utf8' });
}

/** What a binary asks of the dynamic linker: libraries, versions per family, and its ELF facts. */
function inspect(file) {
  const header = readelf(['-h'], file);
  const needed = [...readelf(['-d'], file).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  const versions = {};
  for (const m of readelf(['-V'], file).matchAll(/Name: ([A-Z]+)_([0-9.]+)/g)) {
    const [, family, v] = m;
    if (!versions[family] || cmp(v, versions[family]) > 0) versions[family] = v;
  }
  const imports = [...readelf(['--dyn-syms'], file).matchAll(/\bUND\s+(\S+)$/gm)].map((m) => m[1].replace(/@.*/, ''));
  return {
    type: /Type:\s+(\S+)/.exec(header)?.[1],
    machine: /Machine:\s+(.*)/.exec(header)?.[1].trim(),
    stripped: !/\.symtab\b/.test(readelf(['-S'], file)),
    needed,
    versions,
    nodeApi: imports.filter((f) => /^(napi|node_api)_/.test(f)),
  };
}

/** Runs scripts/probe-addon.js on the binary with a Node of its architecture. */
function probe(target, file) {
  const script = path.join(__dirname, 'probe-addon.js');
  let cmd = process.execPath;
  let args = [script, file];
  const env = { ...process.env };
  if (target.arch !== process.arch) {
    if (target.arch !== 'arm64') throw new Error(`no way to run a ${target.arch} binary here`);
    const { registryNode } = require('./registry-node');
    cmd = 'qemu-aarch64';
    args = [registryNode('arm64').bin, script, file];
    env.QEMU_LD_PREFIX = env.QEMU_LD_PREFIX || '/usr/aarch64-linux-gnu';
  }
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, timeout: 120_000 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`exit ${r.status}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

/** Problems with the prebuilds under root, as readable lines; empty when all pass. */
function checkAll(root, { log = console.log } = {}) {
  const problems = [];
  for (const t of TARGETS) {
    const file = path.join(root, t.file);
    if (!fs.existsSync(file) || fs.statSync(file).size === 0) {
      problems.push(`${t.file}: missing or empty`);
      continue;
    }
    const size = fs.statSync(file).size;
    let info;
    try {
      info = inspect(file);
    } catch (err) {
      problems.push(`${t.file}: readelf failed (${err.message.split('\n')[0]})`);
      continue;
    }
    const bad = (msg) => problems.push(`${t.file}: ${msg}`);
    if (info.type !== 'DYN') bad(`not a shared object (ELF type ${info.type})`);
    if (!String(info.machine).includes(t.machine)) bad(`built for ${info.machine}, expected ${t.machine}`);
    if (!info.stripped) bad('not stripped (prebuildify --strip)');
    for (const lib of info.needed) if (!LIBRARIES.includes(lib)) bad(`needs ${lib} (allowed: ${LIBRARIES.join(', ')})`);
    for (const f of info.nodeApi) if (!f.startsWith('napi_')) bad(`imports ${f}, a Node-API function newer than version 8`);
    if (!info.nodeApi.includes('napi_create_function')) bad('imports no Node-API function: not an addon?');
    for (const [family, v] of Object.entries(info.versions)) {
      if (!(family in BASELINE)) bad(`needs ${family}_${v}, a symbol version family outside the baseline`);
      else if (cmp(v, BASELINE[family]) > 0) bad(`needs ${family}_${v}, newer than the baseline ${family}_${BASELINE[family]}`);
    }
    let loaded = null;
    try {
      loaded = probe(t, file);
      for (const k of t.kernels) if (!loaded.kernels.includes(k)) bad(`runs no ${k} kernel (it runs ${loaded.kernels.join(', ')})`);
      for (const [k, same] of Object.entries(loaded.identical)) if (!same) bad(`kernel ${k} encodes differently from portable`);
    } catch (err) {
      bad(`does not load (${err.message})`);
    }
    const v = Object.entries(info.versions).map(([f, x]) => `${f}_${x}`).join(' ');
    log(`${String(size).padStart(8)}  ${t.file}  needs ${info.needed.join(' ')}; newest ${v}` +
      (loaded ? `; loads in Node ${loaded.node} ${loaded.arch}, kernels ${loaded.kernels.join(' ')}` : ''));
  }
  const dir = path.join(root, 'prebuilds');
  if (fs.existsSync(dir)) {
    for (const tuple of fs.readdirSync(dir)) {
      if (tuple.startsWith('.')) continue;
      for (const f of fs.readdirSync(path.join(dir, tuple))) {
        const rel = `prebuilds/${tuple}/${f}`;
        if (!TARGETS.some((t) => t.file === rel)) problems.push(`${rel}: not a target this release builds and checks`);
      }
    }
  }
  return problems;
}

module.exports = { TARGETS, BASELINE, LIBRARIES, inspect, checkAll };

if (require.main === module) {
  const root = path.resolve(process.argv[2] || path.join(__dirname, '..'));
  const problems = checkAll(root);
  if (problems.length) {
    console.error(`prebuild check failed:\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`prebuilds OK (baseline: ${Object.entries(BASELINE).map(([f, v]) => `${f}_${v}`).join(', ')})`);
}
