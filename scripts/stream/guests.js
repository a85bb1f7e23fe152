// guests.js: boots test guests under QEMU (TCG) for the migration tests and
// benchmarks: a Debian kernel with a busybox initramfs that runs dirty.c
// (scale and round set per guest on the kernel command line), source QEMUs
// with a QMP socket, destination QEMUs paused (-S) with -incoming on a unix
// socket. Every QEMU started here is tracked by PID and killed by killAll()
// and on process exit.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const { cpio } = require('./cpio');

function which(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim() || null;
}

/** True when an ELF file has no program interpreter (statically linked). */
function isStatic(file) {
  const b = fs.readFileSync(file);
  if (b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2) return false;
  const phoff = Number(b.readBigUInt64LE(0x20));
  const phentsize = b.readUInt16LE(0x36);
  const phnum = b.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) if (b.readUInt32LE(phoff + i * phentsize) === 3) return false;
  return true;
}

/** The tools a guest needs, or the list of what is missing. */
function findTools() {
  const missing = [];
  const qemu = which('qemu-system-x86_64');
  if (!qemu) missing.push('qemu-system-x86 (qemu-system-x86_64)');
  if (!which('gcc')) missing.push('gcc');
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => fs.existsSync(p) && isStatic(p));
  if (!busybox) missing.push('busybox-static (a static /bin/busybox)');
  const k = fs.existsSync('/boot')
    ? fs.readdirSync('/boot').filter((f) => /^vmlinuz-/.test(f)).sort((a, b) => a.localeCompare(b, undefined, { numeric: true })).pop()
    : null;
  if (!k) missing.push('linux-image-amd64 (a /boot/vmlinuz-*)');
  return { qemu, busybox, kernel: k ? path.join('/boot', k) : null, missing };
}

class Lab {
  /** work: a directory for sockets, logs and the initramfs. */
  constructor(work, { ramMiB = 128 } = {}) {
    this.work = work;
    this.ramMiB = ramMiB;
    this.tools = findTools();
    if (this.tools.missing.length) throw new Error(`missing ${this.tools.missing.join(', ')}`);
    this.children = new Set();
    this.onExit = () => this.killAll();
    process.on('exit', this.onExit);
    fs.mkdirSync(work, { recursive: true });
    this.initrd = this.buildInitramfs();
  }

  buildInitramfs() {
    const dirty = path.join(this.work, 'dirty');
    const cc = spawnSync('gcc', ['-static', '-O2', '-Wall', '-o', dirty, path.join(__dirname, 'dirty.c')], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`gcc failed:\n${cc.stderr}`);
    const file = (name, src, perm = 0o755) => ({ name, type: 'file', perm, data: fs.readFileSync(src) });
    const archive = cpio([
      ...['bin', 'dev', 'proc', 'sys'].map((name) => ({ name, type: 'dir', perm: 0o755 })),
      file('bin/busybox', this.tools.busybox),
      { name: 'bin/sh', type: 'link', perm: 0o777, target: 'busybox' },
      { name: 'dev/console', type: 'char', perm: 0o600, major: 5, minor: 1 },
      file('init', path.join(__dirname, 'init')),
      file('dirty', dirty),
    ]);
    const initrd = path.join(this.work, 'initrd.gz');
    fs.writeFileSync(initrd, zlib.gzipSync(archive, { level: 9 }));
    return initrd;
  }

  args(name, scale, roundMs, ramMiB = this.ramMiB) {
    return [
      '-nodefaults', '-no-user-config', '-display', 'none', '-smp', '1', '-no-reboot',
      '-machine', 'pc,accel=tcg', '-m', `${ramMiB}M`,
      '-kernel', this.tools.kernel, '-initrd', this.initrd,
      '-append', `console=ttyS0 panic=-1 quiet dirty=${scale},${roundMs}`,
      '-serial', `file:${path.join(this.work, `${name}.console.log`)}`,
      '-qmp', `unix:${path.join(this.work, `${name}.qmp`)},server=on,wait=off`,
    ];
  }

  spawn(name, args) {
    const child = spawn(this.tools.qemu, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.exited = new Promise((resolve) => child.on('exit', (code, sig) => resolve({ code, sig })));
    child.on('exit', () => this.children.delete(child));
    child.stderrText = () => stderr;
    child.qmpPath = path.join(this.work, `${name}.qmp`);
    child.name = name;
    this.children.add(child);
    return child;
  }

  /** A source guest running dirty.c at `scale`; resolves once the program runs. `ramMiB` defaults to the lab's. */
  async source(name, { scale = 1, roundMs = 20, timeoutMs = 150_000, ramMiB = this.ramMiB } = {}) {
    const child = this.spawn(name, this.args(name, scale, roundMs, ramMiB));
    const log = path.join(this.work, `${name}.console.log`);
    const until = Date.now() + timeoutMs;
    for (;;) {
      if (fs.existsSync(log) && /dirty: running/.test(fs.readFileSync(log, 'utf8'))) break;
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name}: QEMU exited during boot: ${child.stderrText().trim()}`);
      if (Date.now() > until) throw new Error(`${name}: the guest program did not start within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return child;
  }

  /** A paused destination listening on a unix socket; `uri` is what the source migrates to. Its RAM must be its source's. */
  destination(name, { ramMiB = this.ramMiB } = {}) {
    const sock = path.join(this.work, `${name}.incoming`);
    const child = this.spawn(name, [...this.args(name, 1, 20, ramMiB), '-S', '-incoming', `unix:${sock}`]);
    child.uri = `unix:${sock}`;
    return child;
  }

  /** Kills every QEMU still running, by PID. */
  killAll() {
    for (const c of this.children) {
      try {
        process.kill(c.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }

  /** Kills all, waits for them, removes the exit hook. */
  async close() {
    const waits = [...this.children].map((c) => c.exited);
    this.killAll();
    let timer;
    await Promise.race([Promise.all(waits), new Promise((r) => (timer = setTimeout(r, 5000)))]);
    clearTimeout(timer);
    process.off('exit', this.onExit);
  }
}

/** Saves guest-physical [0, bytes) of a QEMU to `file` (pmemsave) through `qmp`. */
async function saveRam(qmp, bytes, file) {
  await qmp.execute('pmemsave', { val: 0, size: bytes, filename: file });
  for (let i = 0; i < 100 && (!fs.existsSync(file) || fs.statSync(file).size < bytes); i++) await new Promise((r) => setTimeout(r, 50));
}

/** Pages (of `page` bytes) that differ between two RAM dumps. */
function differingPages(a, b, page = 4096) {
  const x = fs.readFileSync(a);
  const y = fs.readFileSync(b);
  if (x.length !== y.length) return [-1];
  const out = [];
  for (let p = 0; p < x.length; p += page) if (!x.subarray(p, p + page).equals(y.subarray(p, p + page))) out.push(p / page);
  return out;
}

/** Peak and current resident memory of a process, bytes (/proc/PID/status). */
function memoryOf(pid) {
  const t = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(t)[1]) * 1024;
  return { hwm: kb('VmHWM'), rss: kb('VmRSS') };
}

/**
 * Calls `fn` until it resolves, every `delayMs` for at most `tries` more
 * times: a QEMU creates its QMP socket some time after it starts.
 */
async function retry(fn, { tries = 100, delayMs = 100 } = {}) {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= tries) throw err;
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
}

module.exports = { Lab, findTools, saveRam, differingPages, memoryOf, retry };
