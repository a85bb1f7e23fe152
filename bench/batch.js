#!/usr/bin/env node
// bench/batch.js: per-page encodeInto loop vs encodePages vs encodePagesAsync,
// against the Buffer.compare floor over the same memory, in one run.
// Plain node over the built package (npm run build first). Prints a table of
// medians and ratios and writes bench-results/batch.json.
//
//   node bench/batch.js [--quick] [--regime=L2|B2048|COLD]   (XBZRLE_KERNEL picks a kernel)
//
// The machines are shared and noisy: each sample runs every variant of a
// case in turn (so drift hits them alike), ratios come from medians of the
// same run, and the spread (interquartile range / median) is printed.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const x = require('..');

const P = 4096;
const quick = process.argv.includes('--quick');
const only = (process.argv.find((a) => a.startsWith('--regime=')) ?? '').slice(9); // e.g. --regime=L2

// Deterministic bytes (xorshift32), so every run measures the same pages.
function filler(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
}

// DESIGN.md workloads: unchanged pages, and 10% of the bytes scattered.
function makePair(pages, workload, seed) {
  const next = filler(seed);
  const oldBuf = Buffer.allocUnsafe(pages * P);
  const words = new Uint32Array(oldBuf.buffer, oldBuf.byteOffset, oldBuf.length / 4);
  for (let i = 0; i < words.length; i++) words[i] = next();
  const newBuf = Buffer.from(oldBuf);
  if (workload === 'scatter10') {
    for (let p = 0; p < pages; p++) {
      for (let n = 0; n < P / 10; n++) {
        const i = p * P + (next() % P);
        newBuf[i] = (newBuf[i] + 1 + (next() % 255)) & 0xff;
      }
    }
  }
  return { oldBuf, newBuf };
}

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const quantile = (v, q) => {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))];
};
// The cores other processes kept busy during a variant's samples (median).
const foreignCell = (m) => {
  const f = m.foreign.filter((v) => v !== null);
  return f.length ? median(f).toFixed(2) : '-';
};
const spread = (v) => (quantile(v, 0.75) - quantile(v, 0.25)) / median(v);

// CPU time the whole machine spent busy, in ns (Linux /proc/stat, ticks of
// 10 ms), or null elsewhere. Minus this process's own CPU time it gives the
// cores other processes took during a sample: an async speedup measured
// while they took the second core says nothing about an idle machine.
function machineBusyNs() {
  try {
    const f = fs.readFileSync('/proc/stat', 'latin1').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal
    return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) * 1e7;
  } catch {
    return null;
  }
}

// Wall and CPU ns for one call of fn, over `reps` calls (fn may return a
// promise). CPU time counts every thread of the process, pool threads too;
// `foreign` is the cores other processes kept busy meanwhile (null: unknown).
async function timeIt(fn, reps) {
  const b0 = machineBusyNs();
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) {
    const r = fn();
    if (r && typeof r.then === 'function') await r;
  }
  const elapsed = Number(process.hrtime.bigint() - t0);
  const c = process.cpuUsage(c0);
  const own = (c.user + c.system) * 1000;
  const b1 = machineBusyNs();
  const foreign = b0 === null || b1 === null ? null : Math.max(0, (b1 - b0 - own) / elapsed);
  return { wall: elapsed / reps, cpu: own / reps, foreign };
}

// Samples every variant `samples` times, interleaved so that a load change
// on the machine hits them alike; medians in ns per page.
async function measure(variants, pages, samples, targetMs) {
  // Calibration doubles as warm-up: call until targetMs has passed (the first
  // calls are slow while the JIT works), then size a sample to about that.
  const reps = {};
  for (const [name, fn] of Object.entries(variants)) {
    const t0 = process.hrtime.bigint();
    let calls = 0;
    while (Number(process.hrtime.bigint() - t0) < targetMs * 1e6) {
      await timeIt(fn, 1);
      calls++;
    }
    const per = (await timeIt(fn, calls)).wall;
    reps[name] = Math.max(1, Math.round((targetMs * 1e6) / per));
  }
  const runs = Object.fromEntries(Object.keys(variants).map((k) => [k, { wall: [], cpu: [], foreign: [] }]));
  for (let s = 0; s < samples; s++) {
    for (const [name, fn] of Object.entries(variants)) {
      const t = await timeIt(fn, reps[name]);
      runs[name].wall.push(t.wall / pages);
      runs[name].cpu.push(t.cpu / pages);
      runs[name].foreign.push(t.foreign);
    }
  }
  const out = {};
  for (const [name, v] of Object.entries(runs)) {
    out[name] = {
      nsPerPage: median(v.wall),
      spread: spread(v.wall),
      bestNsPerPage: Math.min(...v.wall),
      cpuNsPerPage: median(v.cpu),
      samples: v.wall.length,
      wall: v.wall,
      foreign: v.foreign,
    };
  }
  return { out, reps };
}

// The longest event-loop delay while the async form runs back to back.
async function loopDelay(fn, calls) {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  for (let i = 0; i < calls; i++) await fn();
  h.disable();
  return { maxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6 };
}

async function idleDelay(ms) {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  await new Promise((r) => setTimeout(r, ms));
  h.disable();
  return { maxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6 };
}

function variantsFor(pair, pages, workload, sweep) {
  const { oldBuf, newBuf } = pair;
  const out = Buffer.alloc(pages * P);
  const offsets = new Uint32Array(pages);
  const lengths = new Int32Array(pages);
  const oldViews = [];
  const newViews = [];
  for (let k = 0; k < pages; k++) {
    oldViews.push(oldBuf.subarray(k * P, (k + 1) * P));
    newViews.push(newBuf.subarray(k * P, (k + 1) * P));
  }
  const one = Buffer.alloc(P);
  // The floor reads both sides in full: the very same buffers when they are
  // equal; for changed pages (where compare stops at the first difference)
  // the old buffer and an equal copy of it, the same amount of memory.
  const other = workload === 'unchanged' ? newBuf : Buffer.from(oldBuf);
  return {
    floor: () => Buffer.compare(oldBuf, other),
    perPage: () => {
      for (let k = 0; k < pages; k++) x.encodeInto(oldViews[k], newViews[k], one);
    },
    encodePages: () => x.encodePages(oldBuf, newBuf, { out, offsets, lengths }),
    encodePagesAsync: () => x.encodePagesAsync(oldBuf, newBuf, { out, offsets, lengths }),
    // No options at all: the call allocates out and the tables itself.
    ...(sweep ? { defaultSync: () => x.encodePages(oldBuf, newBuf), defaultAsync: () => x.encodePagesAsync(oldBuf, newBuf) } : {}),
    // threads 1..N into the reused out: the speedup against the cores used.
    ...Object.fromEntries(
      (sweep ? threadCounts : []).map((t) => [`threads${t}`, () => x.encodePagesAsync(oldBuf, newBuf, { out, offsets, lengths, threads: t })]),
    ),
  };
}

const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
// 1..cores, one past it (more works than cores must not lose), and up to
// the pool size (the default queues one work per pool thread).
const poolSize = Number(process.env.UV_THREADPOOL_SIZE) > 0 ? Number(process.env.UV_THREADPOOL_SIZE) : 4;
const threadCounts = Array.from({ length: Math.max(cores + 1, Math.min(poolSize, 8)) }, (_, i) => i + 1);

// Ratio a/b per sample round, keeping the rounds where other processes took
// less than `maxForeign` cores during both samples: the speedup of an idle
// machine, when the shared one had idle moments.
function idleRatio(a, b, maxForeign = 0.1) {
  const r = [];
  for (let i = 0; i < a.wall.length; i++) {
    const fa = a.foreign[i], fb = b.foreign[i];
    if (fa !== null && fb !== null && fa < maxForeign && fb < maxForeign) r.push(a.wall[i] / b.wall[i]);
  }
  return r.length ? { ratio: median(r), rounds: r.length } : { ratio: null, rounds: 0 };
}

async function main() {
  const regimes = [
    // 128 distinct page pairs in two contiguous 512 KiB buffers.
    { name: 'L2', pages: 128, samples: quick ? 5 : 15, targetMs: 20, workloads: ['unchanged', 'scatter10'] },
    // The steady-state call: a batch of 2048 pages (8 MiB a side).
    { name: 'B2048', pages: 2048, samples: quick ? 5 : 11, targetMs: 40, workloads: ['unchanged', 'scatter10'] },
    // 64 MiB a side, from DRAM.
    { name: 'COLD', pages: 16384, samples: quick ? 3 : 7, targetMs: 60, workloads: ['unchanged', 'scatter10'] },
  ];
  const load0 = os.loadavg();
  const idle = await idleDelay(500); // the machine's own noise, nothing running
  const results = [];
  for (const r of regimes) {
    if (only && r.name !== only) continue;
    for (const w of r.workloads) {
      const pair = makePair(r.pages, w, 12345 + r.pages);
      const variants = variantsFor(pair, r.pages, w, r.name !== 'L2' && w === 'scatter10');
      const { out: m, reps } = await measure(variants, r.pages, r.samples, r.targetMs);
      const loop = await loopDelay(variants.encodePagesAsync, reps.encodePagesAsync * 3);
      results.push({ regime: r.name, pages: r.pages, workload: w, ...m, asyncLoopDelay: loop });
    }
  }
  const load1 = os.loadavg();

  const fmt = (v) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
  const pct = (v) => `${(v * 100).toFixed(0)}%`;
  const cell = (m) => `${fmt(m.nsPerPage)} ±${pct(m.spread)}`;
  console.log(
    `xbzrle batch bench: kernel ${x.kernel()}, native ${x.native}, ${os.cpus().length} CPUs (${os.cpus()[0].model}), ` +
      `node ${process.version}, UV_THREADPOOL_SIZE ${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}`,
  );
  console.log(
    `load average ${load0.map((v) => v.toFixed(2)).join(' ')} at start, ${load1.map((v) => v.toFixed(2)).join(' ')} at end; ` +
      `event-loop delay with nothing running: max ${idle.maxMs.toFixed(2)} ms, p99 ${idle.p99Ms.toFixed(2)} ms`,
  );
  console.log('\nwall ns per page, medians ± spread (interquartile range / median):');
  console.log(['regime', 'workload', 'floor', 'perPage', 'encodePages', 'async'].join('\t'));
  for (const r of results) {
    console.log([r.regime, r.workload, cell(r.floor), cell(r.perPage), cell(r.encodePages), cell(r.encodePagesAsync)].join('\t'));
  }
  console.log(
    '\nratios of wall medians; [of CPU-time medians: what the code costs, whatever the load]; {of best samples}:',
  );
  console.log(
    ['regime', 'workload', 'pages/floor', 'async speedup', 'perPage/pages', 'cores sync/async', 'loop max/p99 ms', 'others took (cores)'].join('\t'),
  );
  for (const r of results) {
    console.log(
      [
        r.regime,
        r.workload,
        `${(r.encodePages.nsPerPage / r.floor.nsPerPage).toFixed(2)} [${(r.encodePages.cpuNsPerPage / r.floor.cpuNsPerPage).toFixed(2)}] {${(r.encodePages.bestNsPerPage / r.floor.bestNsPerPage).toFixed(2)}}`,
        `${(r.encodePages.nsPerPage / r.encodePagesAsync.nsPerPage).toFixed(2)} {${(r.encodePages.bestNsPerPage / r.encodePagesAsync.bestNsPerPage).toFixed(2)}}` +
          ` idle ${((i) => (i.ratio === null ? '-' : `${i.ratio.toFixed(2)} of ${i.rounds}`))(idleRatio(r.encodePages, r.encodePagesAsync))}`,
        // throughput of the per-page loop as a fraction of encodePages'
        `${(r.encodePages.nsPerPage / r.perPage.nsPerPage).toFixed(2)} [${(r.encodePages.cpuNsPerPage / r.perPage.cpuNsPerPage).toFixed(2)}]`,
        // CPU time / wall time: how many cores encodePages and the async form got
        `${(r.encodePages.cpuNsPerPage / r.encodePages.nsPerPage).toFixed(2)} / ${(r.encodePagesAsync.cpuNsPerPage / r.encodePagesAsync.nsPerPage).toFixed(2)}`,
        `${r.asyncLoopDelay.maxMs.toFixed(2)} / ${r.asyncLoopDelay.p99Ms.toFixed(2)}`,
        foreignCell(r.encodePagesAsync),
      ].join('\t'),
    );
  }
  const sweeps = results.filter((r) => r.threads1);
  if (sweeps.length) {
    console.log(
      `\nasync speedup over encodePages by threads (wall medians of one run; [CPU time async/sync]; {idle: median over the rounds where other processes took < 0.1 core, and how many}):`,
    );
    console.log(['regime', 'workload', 'defaults (no out)', ...threadCounts.map((t) => `threads ${t}`)].join('\t'));
    for (const r of sweeps) {
      const cell = (sync, a) => {
        const idle = idleRatio(sync, a);
        // [CPU time async / sync: what the split costs in work, whatever the load]
        return `${(sync.nsPerPage / a.nsPerPage).toFixed(2)} [${(a.cpuNsPerPage / sync.cpuNsPerPage).toFixed(3)}] {${idle.ratio === null ? '-' : idle.ratio.toFixed(2)} of ${idle.rounds}}`;
      };
      console.log(
        [r.regime, r.workload, cell(r.defaultSync, r.defaultAsync), ...threadCounts.map((t) => cell(r.encodePages, r[`threads${t}`]))].join('\t'),
      );
    }
  }
  const get = (regime, workload) => results.find((r) => r.regime === regime && r.workload === workload);
  const checks = [
    ['encodePages / floor, unchanged, L2 (<= 1.15)', get('L2', 'unchanged'), (r) => r.encodePages.nsPerPage / r.floor.nsPerPage, (v) => v <= 1.15],
    ['encodePages / floor, unchanged, COLD (<= 1.15)', get('COLD', 'unchanged'), (r) => r.encodePages.nsPerPage / r.floor.nsPerPage, (v) => v <= 1.15],
    ['async speedup, 10% scattered, 2048-page batches (>= 1.85)', get('B2048', 'scatter10'), (r) => r.encodePages.nsPerPage / r.encodePagesAsync.nsPerPage, (v) => v >= 1.85],
    ['async speedup, 10% scattered, COLD (>= 1.85)', get('COLD', 'scatter10'), (r) => r.encodePages.nsPerPage / r.encodePagesAsync.nsPerPage, (v) => v >= 1.85],
  ];
  console.log('\ntargets:');
  const verdicts = [];
  for (const [name, r, f, ok] of checks) {
    if (!r) continue;
    const v = f(r);
    verdicts.push({ name, value: v, met: ok(v) });
    console.log(`  ${ok(v) ? 'met ' : 'MISS'}  ${name}: ${v.toFixed(2)}`);
  }
  const dir = path.join(__dirname, '..', 'bench-results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'batch.json'),
    JSON.stringify(
      { kernel: x.kernel(), node: process.version, cpus: os.cpus().length, load: [load0, load1], idle, results, verdicts },
      null,
      2,
    ),
  );
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
