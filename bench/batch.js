#!/usr/bin/env node
// bench/batch.js: per-page encodeInto loop vs encodePages vs encodePagesAsync,
// against the Buffer.compare floor over the same memory, in one run.
// Plain node over the built package (npm run build first). Prints a table of
// medians and ratios and writes bench-results/batch.json.
//
//   node bench/batch.js [--quick]      XBZRLE_KERNEL=portable picks a kernel
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
const spread = (v) => (quantile(v, 0.75) - quantile(v, 0.25)) / median(v);

// ns for one call of fn, repeated `reps` times (fn may return a promise).
async function timeIt(fn, reps) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) {
    const r = fn();
    if (r && typeof r.then === 'function') await r;
  }
  return Number(process.hrtime.bigint() - t0) / reps;
}

// Samples every variant `samples` times, interleaved; ns per page medians.
async function measure(variants, pages, samples, targetMs) {
  const reps = {};
  for (const [name, fn] of Object.entries(variants)) {
    const once = await timeIt(fn, 1); // also warms up
    reps[name] = Math.max(1, Math.ceil((targetMs * 1e6) / Math.max(once, 1)));
  }
  const runs = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let s = 0; s < samples; s++) {
    for (const [name, fn] of Object.entries(variants)) runs[name].push((await timeIt(fn, reps[name])) / pages);
  }
  const out = {};
  for (const [name, v] of Object.entries(runs)) out[name] = { nsPerPage: median(v), spread: spread(v), samples: v.length };
  return out;
}

function variantsFor(pair, pages, threads) {
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
  const equalCopy = Buffer.from(oldBuf); // the floor reads equal memory in full
  return {
    floor: () => Buffer.compare(oldBuf, equalCopy),
    perPage: () => {
      for (let k = 0; k < pages; k++) x.encodeInto(oldViews[k], newViews[k], one);
    },
    encodePages: () => x.encodePages(oldBuf, newBuf, { out, offsets, lengths }),
    encodePagesAsync: () => x.encodePagesAsync(oldBuf, newBuf, { out, offsets, lengths, threads }),
  };
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
  const elDelay = monitorEventLoopDelay({ resolution: 1 });
  const results = [];
  for (const r of regimes) {
    for (const w of r.workloads) {
      let pair = makePair(r.pages, w, 12345 + r.pages);
      const variants = variantsFor(pair, r.pages);
      // The event loop is watched only while the async variant runs.
      const asyncFn = variants.encodePagesAsync;
      variants.encodePagesAsync = async () => {
        elDelay.enable();
        try {
          return await asyncFn();
        } finally {
          elDelay.disable();
        }
      };
      elDelay.reset();
      const m = await measure(variants, r.pages, r.samples, r.targetMs);
      const loopMaxMs = elDelay.max / 1e6;
      results.push({ regime: r.name, pages: r.pages, workload: w, ...m, asyncLoopDelayMaxMs: loopMaxMs });
      pair = null;
    }
  }

  const fmt = (v) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
  const pct = (v) => `${(v * 100).toFixed(0)}%`;
  console.log(
    `xbzrle batch bench: kernel ${x.kernel()}, native ${x.native}, ${os.cpus().length} CPUs (${os.cpus()[0].model}), ` +
      `node ${process.version}, UV_THREADPOOL_SIZE ${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}`,
  );
  console.log('ns per page, medians (spread = IQR / median):');
  console.log(
    ['regime', 'workload', 'floor', 'perPage', 'encodePages', 'async', 'pages/floor', 'async speedup', 'perPage frac', 'loop max ms'].join('\t'),
  );
  for (const r of results) {
    const row = [
      r.regime,
      r.workload,
      `${fmt(r.floor.nsPerPage)} ±${pct(r.floor.spread)}`,
      `${fmt(r.perPage.nsPerPage)} ±${pct(r.perPage.spread)}`,
      `${fmt(r.encodePages.nsPerPage)} ±${pct(r.encodePages.spread)}`,
      `${fmt(r.encodePagesAsync.nsPerPage)} ±${pct(r.encodePagesAsync.spread)}`,
      (r.encodePages.nsPerPage / r.floor.nsPerPage).toFixed(2),
      (r.encodePages.nsPerPage / r.encodePagesAsync.nsPerPage).toFixed(2),
      (r.encodePages.nsPerPage / r.perPage.nsPerPage).toFixed(2),
      r.asyncLoopDelayMaxMs.toFixed(2),
    ];
    console.log(row.join('\t'));
  }
  const get = (regime, workload) => results.find((r) => r.regime === regime && r.workload === workload);
  const checks = [
    ['encodePages / floor, unchanged, L2 (<= 1.15)', get('L2', 'unchanged'), (r) => r.encodePages.nsPerPage / r.floor.nsPerPage, (v) => v <= 1.15],
    ['encodePages / floor, unchanged, COLD (<= 1.15)', get('COLD', 'unchanged'), (r) => r.encodePages.nsPerPage / r.floor.nsPerPage, (v) => v <= 1.15],
    ['async speedup, 10% scattered, 2048-page batches (>= 1.7)', get('B2048', 'scatter10'), (r) => r.encodePages.nsPerPage / r.encodePagesAsync.nsPerPage, (v) => v >= 1.7],
    ['async speedup, 10% scattered, COLD (>= 1.7)', get('COLD', 'scatter10'), (r) => r.encodePages.nsPerPage / r.encodePagesAsync.nsPerPage, (v) => v >= 1.7],
  ];
  console.log('\ntargets:');
  const verdicts = [];
  for (const [name, r, f, ok] of checks) {
    const v = f(r);
    verdicts.push({ name, value: v, met: ok(v) });
    console.log(`  ${ok(v) ? 'met ' : 'MISS'}  ${name}: ${v.toFixed(2)}`);
  }
  const dir = path.join(__dirname, '..', 'bench-results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'batch.json'),
    JSON.stringify({ kernel: x.kernel(), node: process.version, cpus: os.cpus().length, results, verdicts }, null, 2),
  );
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
