// bench/profile-overhead.js: what `xbzrle profile` costs on a process with
// 1 GiB of resident RAM at one interval per second (issue 7 targets: under
// one core on average, under 5% of the profiled RAM in memory).
//
//   node bench/profile-overhead.js [--ram-mib 1024] [--hot-mib 256]
//        [--rate-mib 64] [--duration 30] [--json FILE]
//
// It builds test/fixtures/dirtier.c, starts it with RAM MiB resident (a hot
// set of HOT MiB rewritten at RATE MiB/s, the rest written once), runs the
// CLI against it and samples the profiler's /proc/PID/stat and status:
// CPU = (utime + stime) / wall time from its start to its exit (startup and
// the final analysis included); memory = peak RSS (VmHWM), and the same
// minus the RSS of an idle node that has loaded the CLI (the runtime's fixed
// cost, which does not grow with the profiled RAM).
'use strict';
const { spawn, spawnSync, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');

const { values: v } = parseArgs({
  options: {
    'ram-mib': { type: 'string', default: '1024' },
    'hot-mib': { type: 'string', default: '256' },
    'rate-mib': { type: 'string', default: '64' },
    duration: { type: 'string', default: '30' },
    json: { type: 'string' },
  },
});
const root = path.join(__dirname, '..');
const P = 4096;
const ramPages = (Number(v['ram-mib']) * 2 ** 20) / P;
const hotPages = (Number(v['hot-mib']) * 2 ** 20) / P;
const rate = (Number(v['rate-mib']) * 2 ** 20) / P;
const duration = Number(v.duration);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xbzrle-overhead-'));
const exe = path.join(tmp, 'dirtier');
execFileSync('cc', ['-O2', '-o', exe, path.join(root, 'test', 'fixtures', 'dirtier.c')]);

const TICK = 100; // clock ticks per second (USER_HZ)
function cpuSeconds(pid) {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / TICK; // utime, stime
}
function status(pid, key) {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

async function main() {
  // The idle cost of the runtime with the CLI loaded.
  const idle = spawnSync(process.execPath, ['-e', "require('./dist/cli/main'); setTimeout(() => { const m = require('fs').readFileSync('/proc/self/status','utf8'); console.log(/VmRSS:\\s+(\\d+)/.exec(m)[1]); }, 500)"], { cwd: root, encoding: 'utf8' });
  const idleRss = Number(idle.stdout.trim()) * 1024;

  const child = spawn(exe, [String(hotPages), String(rate), String(ramPages - hotPages)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = await new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      const m = /ready ([0-9a-f]+) (\d+) (\d+)/.exec(buf);
      if (m) resolve(m);
    });
    child.on('exit', () => reject(new Error('dirtier exited')));
  });
  const start = parseInt(ready[1], 16);
  const end = start + Number(ready[2]) * Number(ready[3]);
  const region = `${start.toString(16)}-${end.toString(16)}`;
  const jsonOut = path.join(tmp, 'report.json');
  const t0 = Date.now();
  const prof = spawn(process.execPath, [path.join(root, 'bin', 'xbzrle.js'), 'profile', '--pid', String(child.pid), '--duration', String(duration), '--interval', '1', '--region', region, '--json', jsonOut, '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  prof.stderr.on('data', (d) => (stderr += d));
  prof.stdout.resume();
  let lastCpu = 0;
  let peak = 0;
  const timer = setInterval(() => {
    try {
      lastCpu = cpuSeconds(prof.pid);
      peak = Math.max(peak, status(prof.pid, 'VmHWM'));
    } catch {
      // exited between samples
    }
  }, 100);
  // Read the final counters while the process is a zombie (before reaping).
  const code = await new Promise((resolve) => prof.on('exit', resolve));
  clearInterval(timer);
  const wall = (Date.now() - t0) / 1000;
  child.kill('SIGKILL');
  if (code !== 0) {
    console.error(stderr);
    throw new Error(`profile exited with ${code}`);
  }
  const report = JSON.parse(fs.readFileSync(jsonOut, 'utf8'));
  const ram = ramPages * P;
  const result = {
    ramBytes: ram,
    hotBytes: hotPages * P,
    dirtyRateTarget: rate * P,
    duration,
    wallSeconds: wall,
    // The profiler's own account (getrusage at the end: exact) and ours
    // (sampled every 100 ms from /proc: a cross-check).
    profilerCpuSeconds: report.cost.cpuSeconds,
    profilerWallSeconds: report.cost.wallSeconds,
    cores: report.cost.cpuSeconds / report.cost.wallSeconds,
    sampledCpuSeconds: lastCpu,
    coresWhileProfiling: report.cpu.profilerPerSecond,
    peakRssBytes: report.cost.maxRssBytes,
    sampledPeakRssBytes: peak,
    idleNodeRssBytes: idleRss,
    peakRssShare: report.cost.maxRssBytes / ram,
    addedRssBytes: report.cost.maxRssBytes - idleRss,
    addedRssShare: (report.cost.maxRssBytes - idleRss) / ram,
    measuredDirtyBytesPerSecond: report.dirty.bytesPerSecond,
    method: report.meta.method,
    contentSampleRate: report.contentSample.rate,
    advice: report.advice.sentence,
  };
  const MiB = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  console.log(`profiled ${MiB(ram)} resident (${MiB(hotPages * P)} hot at ${MiB(rate * P)}/s), ${duration} s at 1 interval/s, method ${result.method}`);
  console.log(`CPU:    ${result.cores.toFixed(3)} cores on average over ${result.profilerWallSeconds.toFixed(1)} s (startup and analysis included; sampled from /proc: ${(lastCpu / wall).toFixed(3)}); ${result.coresWhileProfiling.toFixed(3)} while profiling   target < 1`);
  console.log(`memory: peak RSS ${MiB(result.peakRssBytes)} = ${(result.peakRssShare * 100).toFixed(2)}% of the profiled RAM; ${MiB(result.addedRssBytes)} = ${(result.addedRssShare * 100).toFixed(2)}% above an idle node with the CLI loaded (${MiB(idleRss)})   target < 5%`);
  console.log(`dirty rate measured: ${MiB(result.measuredDirtyBytesPerSecond)}/s (set: ${MiB(rate * P)}/s, 3/4 visible to content fingerprints)`);
  if (v.json) fs.writeFileSync(v.json, JSON.stringify(result, null, 2) + '\n');
  fs.rmSync(tmp, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
