#!/usr/bin/env node
// make-stream.js: makes a real QEMU migration stream with XBZRLE pages, and
// checks it. Boots a Debian kernel with a busybox initramfs under QEMU (TCG),
// where a small static program (scripts/stream/dirty.c) dirties memory in
// mixed ways; migrates the guest to a file with the xbzrle capability and a
// bandwidth limit that forces several passes; loads the file into a second,
// paused QEMU; dumps that guest's RAM (pmemsave) and compares it with the RAM
// this package's reader rebuilds from the stream. Writes DIR/stream.bin (or
// .gz) and DIR/meta.json (versions, options, QEMU's statistics, the result).
// See scripts/stream/README.md. Needs: qemu-system-x86, busybox-static,
// linux-image-amd64, gcc, and a built dist/ (npm run build:ts).
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');
const zlib = require('node:zlib');
const { Qmp } = require('./stream/qmp');
const { cpio } = require('./stream/cpio');
const { findTools } = require('./stream/guests');

const HELP = `Usage: node scripts/make-stream.js --out DIR [options]

  --out DIR        where stream.bin(.gz) and meta.json go (created)
  --mode MODE      small: guest RAM in a shared file left out of the stream
                   (x-ignore-shared); only a 128 MiB hot-plugged DIMM, where
                   the program's pages live, and the ROMs migrate (default)
                   full: plain 128 MiB guest, all of RAM migrates (~80 MB)
  --passes N       pre-copy passes after the first (default 12)
  --scale N        size multiplier of the dirtied regions (default 1)
  --round-ms N     pause between two rounds of writes in the guest (default 10)
  --cache BYTES    xbzrle-cache-size (default 4194304)
  --fast BYTES     max-bandwidth of the first pass, bytes/s (default 16 MiB/s;
                   much faster and the guest dirties too few pages meanwhile)
  --slow BYTES     max-bandwidth after the first pass, bytes/s (default 393216)
  --gzip           keep the stream as stream.bin.gz
  --kernel PATH    kernel image (default: newest /boot/vmlinuz-*)
  --timeout S      give up (and kill QEMU) after S seconds (default 240)
  --keep           keep the work directory (initramfs, logs, RAM dumps)`;

const { values: opt } = parseArgs({
  options: {
    out: { type: 'string' },
    mode: { type: 'string', default: 'small' },
    passes: { type: 'string', default: '12' },
    scale: { type: 'string', default: '1' },
    'round-ms': { type: 'string', default: '10' },
    cache: { type: 'string', default: String(4 << 20) },
    fast: { type: 'string', default: String(16 << 20) },
    slow: { type: 'string', default: String(384 << 10) },
    gzip: { type: 'boolean', default: false },
    kernel: { type: 'string' },
    timeout: { type: 'string', default: '240' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (opt.help || !opt.out || !['small', 'full'].includes(opt.mode)) {
  console.log(HELP);
  process.exit(opt.help ? 0 : 2);
}

const root = path.join(__dirname, '..');
const out = path.resolve(opt.out);
const work = path.join(out, 'work');
const passes = Number(opt.passes);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.log(`[make-stream ${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);
const t0 = Date.now();

// Every QEMU we start is killed when we exit, whatever the reason.
const children = new Set();
function killAll() {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    killAll();
    process.exit(130);
  });
}
setTimeout(() => {
  console.error(`make-stream: timed out after ${opt.timeout}s`);
  killAll();
  process.exit(1);
}, Number(opt.timeout) * 1000).unref();

function fail(msg) {
  console.error(`make-stream: ${msg}`);
  process.exit(1);
}

// The tool checks are the guest lab's (scripts/stream/guests.js); --kernel overrides its kernel.
function checkTools() {
  const { qemu, busybox, kernel: found, missing } = findTools();
  const kernel = opt.kernel || found;
  if (opt.kernel) {
    const i = missing.findIndex((m) => m.startsWith('linux-image-amd64'));
    if (i >= 0) missing.splice(i, 1);
    if (!fs.existsSync(opt.kernel)) missing.push(`the kernel ${opt.kernel}`);
  }
  if (!fs.existsSync(path.join(root, 'dist', 'stream', 'inspect.js'))) missing.push('dist/ (run npm run build:ts)');
  if (missing.length) {
    console.error(`make-stream: missing ${missing.join(', ')}`);
    process.exit(3);
  }
  return { qemu, busybox, kernel };
}

function buildInitramfs(busybox) {
  const dirty = path.join(work, 'dirty');
  const cc = spawnSync('gcc', ['-static', '-O2', '-Wall', '-o', dirty, path.join(__dirname, 'stream', 'dirty.c')], { encoding: 'utf8' });
  if (cc.status !== 0) fail(`gcc failed:\n${cc.stderr}`);
  const file = (name, src, perm = 0o755) => ({ name, type: 'file', perm, data: fs.readFileSync(src) });
  const archive = cpio([
    ...['bin', 'dev', 'proc', 'sys'].map((name) => ({ name, type: 'dir', perm: 0o755 })),
    file('bin/busybox', busybox),
    { name: 'bin/sh', type: 'link', perm: 0o777, target: 'busybox' },
    { name: 'dev/console', type: 'char', perm: 0o600, major: 5, minor: 1 },
    file('init', path.join(__dirname, 'stream', 'init')),
    file('dirty', dirty),
  ]);
  const initrd = path.join(work, 'initrd.gz');
  fs.writeFileSync(initrd, zlib.gzipSync(archive, { level: 9 }));
  return initrd;
}

function machineArgs(kernel, initrd, name) {
  const shm = fs.existsSync('/dev/shm') ? '/dev/shm' : work;
  const args = ['-nodefaults', '-no-user-config', '-display', 'none', '-smp', '1', '-no-reboot'];
  args.push('-kernel', kernel, '-initrd', initrd);
  args.push('-append', `console=ttyS0 panic=-1 quiet dirty=${opt.scale},${opt['round-ms']}`);
  args.push('-serial', `file:${path.join(work, `${name}.console.log`)}`);
  args.push('-qmp', `unix:${path.join(work, `${name}.qmp`)},server=on,wait=off`);
  if (opt.mode === 'small') {
    // Main RAM in a shared file: x-ignore-shared leaves it out of the stream
    // (the destination maps the same file). The guest onlines the DIMM as
    // movable memory, where user pages go first, so the DIMM holds the
    // program's pages; it and the ROMs are what the stream carries.
    ramFile = ramFile || path.join(shm, `xbzrle-make-stream-${process.pid}.ram`);
    args.push('-machine', 'pc,accel=tcg,memory-backend=ram0', '-m', '128M,slots=1,maxmem=512M');
    args.push('-object', `memory-backend-file,id=ram0,size=128M,mem-path=${ramFile},share=on`);
    args.push('-object', 'memory-backend-ram,id=dimm0,size=128M', '-device', 'pc-dimm,id=dimm,memdev=dimm0');
  } else {
    args.push('-machine', 'pc,accel=tcg', '-m', '128M');
  }
  return args;
}
let ramFile = null;
process.on('exit', () => ramFile && fs.rmSync(ramFile, { force: true }));

function startQemu(qemu, args, name) {
  const child = spawn(qemu, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.exited = new Promise((resolve) => child.on('exit', (code, sig) => resolve({ code, sig })));
  child.on('exit', () => children.delete(child));
  child.stderrText = () => stderr;
  children.add(child);
  child.qmp = () =>
    Promise.race([
      Qmp.connect(path.join(work, `${name}.qmp`)),
      child.exited.then(() => Promise.reject(new Error(`${name} QEMU exited: ${stderr.trim()}`))),
    ]);
  return child;
}

async function waitFor(what, test, timeoutMs, child) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await test();
    if (v) return v;
    if (child && child.exitCode !== null) fail(`QEMU exited while waiting for ${what}: ${child.stderrText().trim()}`);
    if (Date.now() > until) fail(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function quit(child, qmp) {
  try {
    await qmp.execute('quit');
  } catch {
    /* the socket may close before the reply */
  }
  qmp.close();
  await Promise.race([child.exited, sleep(5000)]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

/** Migrates the source guest to `stream`; returns QEMU's final query-migrate. */
async function migrate(qemu, args, stream) {
  const src = startQemu(qemu, args, 'source');
  const qmp = await src.qmp();
  const consoleLog = path.join(work, 'source.console.log');
  await waitFor('the guest program to start', () => fs.existsSync(consoleLog) && /dirty: running/.test(fs.readFileSync(consoleLog, 'utf8')), 150_000, src);
  log('guest running; migrating');
  await sleep(500);
  const caps = ['xbzrle', ...(opt.mode === 'small' ? ['x-ignore-shared'] : [])];
  await qmp.execute('migrate-set-capabilities', { capabilities: caps.map((capability) => ({ capability, state: true })) });
  // downtime-limit 1 ms: QEMU completes when the dirty pages would take less
  // than that to send, which never happens while the guest writes, so pass
  // follows pass until we lift the limit. (0 would stop the dirty-bitmap
  // syncs: QEMU syncs only when what is left is below that threshold.)
  await qmp.execute('migrate-set-parameters', { 'xbzrle-cache-size': Number(opt.cache), 'max-bandwidth': Number(opt.fast), 'downtime-limit': 1 });
  await qmp.execute('migrate', { uri: `exec:cat > '${stream}'` });
  let slowed = false;
  let finishing = false;
  let status;
  for (;;) {
    status = await qmp.execute('query-migrate');
    const syncs = status.ram?.['dirty-sync-count'] ?? 0;
    if (status.status === 'completed') break;
    if (status.status === 'failed' || status.status === 'cancelled') fail(`migration ${status.status}: ${status['error-desc'] ?? ''}`);
    if (!slowed && syncs >= 2) {
      // The first pass is done: slow down so each pass spans a few rounds of writes.
      await qmp.execute('migrate-set-parameters', { 'max-bandwidth': Number(opt.slow) });
      slowed = true;
      log('first pass done; bandwidth limited');
    }
    if (!finishing && syncs >= passes + 1) {
      await qmp.execute('migrate-set-parameters', { 'max-bandwidth': 1 << 30, 'downtime-limit': 10_000 });
      finishing = true;
      log(`${syncs - 1} passes; letting the migration converge`);
    }
    if (process.env.MAKE_STREAM_DEBUG) log(status.status, syncs, status.ram?.transferred, JSON.stringify(status['xbzrle-cache']));
    await sleep(finishing ? 50 : 20);
  }
  log(`migration completed: ${status.ram.transferred} bytes, ${status.ram['dirty-sync-count']} syncs`);
  await quit(src, qmp);
  return status;
}

/** Loads the stream into a paused QEMU and dumps its RAM ranges; returns them. */
async function loadAndDump(qemu, args, stream, blockNames) {
  const dst = startQemu(qemu, [...args, '-S', '-incoming', 'defer'], 'destination');
  const qmp = await dst.qmp();
  // The destination must have the capabilities the stream's configuration requires.
  if (opt.mode === 'small') {
    await qmp.execute('migrate-set-capabilities', { capabilities: [{ capability: 'x-ignore-shared', state: true }] });
  }
  await qmp.execute('migrate-incoming', { uri: `exec:cat '${stream}'` });
  const st = await waitFor(
    'the destination to load the stream',
    async () => {
      const s = await qmp.execute('query-migrate');
      if (s.status === 'failed') fail(`destination failed to load the stream: ${s['error-desc'] ?? dst.stderrText()}`);
      return s.status === 'completed' ? s : null;
    },
    120_000,
    dst,
  );
  const mtree = await qmp.execute('human-monitor-command', { 'command-line': 'info mtree -f' });
  const ranges = guestRamRanges(mtree, blockNames);
  fs.mkdirSync(path.join(work, 'dest'), { recursive: true });
  for (const [i, r] of ranges.entries()) {
    r.file = path.join(work, 'dest', `${i}.bin`);
    await qmp.execute('pmemsave', { val: r.guestAddr, size: r.length, filename: r.file });
  }
  await quit(dst, qmp);
  return { status: st.status, ranges };
}

/**
 * The guest-physical ranges backed by migrated RAM blocks, from the flat
 * memory map of the system address space ("info mtree -f").
 */
function guestRamRanges(mtree, blockNames) {
  const ranges = [];
  let inMemory = false;
  for (const line of mtree.split('\n')) {
    if (/^FlatView/.test(line)) inMemory = false;
    if (/AS "memory"/.test(line)) inMemory = true;
    if (!inMemory) continue;
    const m = /^\s*([0-9a-f]+)-([0-9a-f]+) \(prio -?\d+, (?:ram|rom)\): (\S+)(?: @([0-9a-f]+))?/.exec(line);
    if (!m || !blockNames.has(m[3])) continue;
    const start = parseInt(m[1], 16);
    ranges.push({ block: m[3], blockOffset: m[4] ? parseInt(m[4], 16) : 0, guestAddr: start, length: parseInt(m[2], 16) - start + 1 });
  }
  return ranges;
}

/** Compares the destination's ranges with the rebuilt block files. */
function compare(ranges, rebuilt) {
  const blocks = new Map();
  for (const r of ranges) {
    const theirs = fs.readFileSync(r.file);
    const ours = Buffer.alloc(r.length);
    const fd = fs.openSync(rebuilt.get(r.block), 'r');
    fs.readSync(fd, ours, 0, r.length, r.blockOffset);
    fs.closeSync(fd);
    const b = blocks.get(r.block) ?? { name: r.block, ranges: [], bytes: 0, dest: crypto.createHash('sha256'), ours: crypto.createHash('sha256'), differingPages: 0 };
    b.ranges.push({ blockOffset: r.blockOffset, guestAddr: r.guestAddr, length: r.length });
    b.bytes += r.length;
    b.dest.update(theirs);
    b.ours.update(ours);
    for (let p = 0; p < r.length; p += 4096) if (!theirs.subarray(p, p + 4096).equals(ours.subarray(p, p + 4096))) b.differingPages++;
    blocks.set(r.block, b);
  }
  return [...blocks.values()].map((b) => {
    const dest = b.dest.digest('hex');
    const ours = b.ours.digest('hex');
    return { name: b.name, ranges: b.ranges, bytes: b.bytes, destSha256: dest, oursSha256: ours, equal: dest === ours, differingPages: b.differingPages };
  });
}

async function main() {
  const tools = checkTools();
  fs.mkdirSync(work, { recursive: true });
  const version = spawnSync(tools.qemu, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0];
  log(`${version}; kernel ${tools.kernel}; mode ${opt.mode}`);
  const initrd = buildInitramfs(tools.busybox);
  const args = machineArgs(tools.kernel, initrd, 'source');
  const stream = path.join(out, 'stream.bin');
  const migration = await migrate(tools.qemu, args, stream);

  // What our reader makes of the stream: statistics and the RAM it rebuilds.
  const { inspectStream } = require(path.join(root, 'dist', 'stream', 'inspect.js'));
  const rebuiltDir = path.join(work, 'rebuilt');
  const report = await inspectStream(stream, { extractRam: rebuiltDir });
  if (report.errors.length) fail(`our reader failed: ${report.errors[0].message}`);
  log(`read: ${report.xbzrle.records} XBZRLE records, ${report.passes.length} passes`);
  const migrated = report.blocks.filter((b) => b.pagesSent > 0);
  const rebuilt = new Map(migrated.map((b) => [b.name, b.file]));

  const destArgs = machineArgs(tools.kernel, initrd, 'destination');
  const dest = await loadAndDump(tools.qemu, destArgs, stream, new Set(rebuilt.keys()));
  const comparison = compare(dest.ranges, rebuilt);
  const allEqual = comparison.length > 0 && comparison.every((b) => b.equal);
  log(`destination RAM ${allEqual ? 'equals' : 'DIFFERS FROM'} the rebuilt RAM (${comparison.map((b) => `${b.name} ${b.equal ? 'ok' : `${b.differingPages} pages differ`}`).join(', ')})`);

  const streamBytes = fs.statSync(stream).size;
  let streamFile = stream;
  if (opt.gzip) {
    streamFile = `${stream}.gz`;
    fs.writeFileSync(streamFile, zlib.gzipSync(fs.readFileSync(stream), { level: 9 }));
    fs.rmSync(stream);
  }
  const kernelPkg = spawnSync('dpkg', ['-S', fs.realpathSync(tools.kernel)], { encoding: 'utf8' }).stdout.split(':')[0] || null;
  const meta = {
    made: new Date().toISOString(),
    qemu: version,
    kernel: path.basename(tools.kernel),
    kernelPackage: kernelPkg,
    busybox: spawnSync(tools.busybox, ['--help'], { encoding: 'utf8' }).stdout.split('\n')[0],
    mode: opt.mode,
    options: { passes, scale: Number(opt.scale), roundMs: Number(opt['round-ms']), xbzrleCacheSize: Number(opt.cache), fastBandwidth: Number(opt.fast), slowBandwidth: Number(opt.slow), downtimeLimitMs: 1 },
    qemuArgs: args.map((a) => a.replaceAll(work, '$WORK').replaceAll(ramFile ?? '\0', '$RAMFILE')),
    // bytes: the whole stream; readBytes: up to where the reader stops (device state).
    stream: { file: path.basename(streamFile), bytes: streamBytes, readBytes: report.bytes, storedBytes: fs.statSync(streamFile).size },
    qemuStats: { ram: migration.ram, xbzrle: migration['xbzrle-cache'] },
    reader: {
      records: report.records,
      passes: report.passes.length,
      parts: report.parts.length,
      xbzrle: { ...report.xbzrle, differences: report.xbzrle.differences.length },
      resent: report.resent,
      blocks: report.blocks.map(({ name, length, pagesSent }) => ({ name, length, pagesSent })),
      stop: report.stop,
    },
    destination: { status: dest.status, blocks: comparison, allEqual },
  };
  fs.writeFileSync(path.join(out, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
  if (!opt.keep) fs.rmSync(work, { recursive: true, force: true });
  log(`wrote ${streamFile} (${meta.stream.storedBytes} bytes) and meta.json`);
  process.exit(allEqual ? 0 : 1);
}

main().catch((err) => fail(err.stack || err.message));
