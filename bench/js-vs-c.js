#!/usr/bin/env node
// bench/js-vs-c.js: encodePages called from JS against the C loop it runs
// (bench/native/bench_batch.cc: encode_range over the same kernel), on the
// same page bytes, batches of 128 pages into one reused out; and the
// TypeScript twin against the portable C kernel. Workloads a-h are those of
// `xbzrle bench` and the peer harness. Plain node over the built package
// (npm run build first).
//
//   npm run bench:js-vs-c -- [--rounds N] [--regime L2|COLD] [--workload NAME]... [--kernel NAME]
//
// The C loop runs in a child process on a copy of the bytes (written to a
// temporary file); rounds alternate C and JS so that load changes hit both,
// and both sides count CPU time (the C thread's; the JS process's, which
// after warm-up is the calling thread's), not time lost to other jobs.
// Ratios are C time / JS time (1.00: the JS call costs nothing over the C
// loop; the goal of issue 15 is >= 0.9) and twin time / portable time.
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const x = require('..');
const { WORKLOADS, makePages } = require('../dist/bench/workloads');

const P = 4096;
const BATCH = 128;
const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const many = (name) => process.argv.flatMap((a, i) => (process.argv[i - 1] === name ? [a] : []));
const rounds = Number(arg('--rounds') ?? 5);
const regimes = [
  { name: 'L2', pages: 128 }, // 512 KiB a side: stays in L2
  { name: 'COLD', pages: 16384 }, // 64 MiB a side: walked once per sample
].filter((r) => !arg('--regime') || r.name === arg('--regime'));
const letters = 'abcdefgh';
const workloads = WORKLOADS.map((w, i) => ({ ...w, letter: letters[i] })).filter(
  (w) => !many('--workload').length || many('--workload').includes(w.name) || many('--workload').includes(w.letter),
);
const kernel = arg('--kernel') ?? x.kernel();
const samples = 9;

const root = path.join(__dirname, '..');
const exe = path.join(root, 'bench', 'native', 'out', 'bench_batch');
function buildC() {
  fs.mkdirSync(path.dirname(exe), { recursive: true });
  const srcs = execFileSync('sh', ['-c', `root="${root}"; . "$root/native/core/kernel-sources.sh"; echo $srcs`]).toString().trim().split(/\s+/);
  // As the addon: -O3, no -m flags (the kernels carry their own targets).
  execFileSync(process.env.CXX || 'g++', ['-std=c++17', '-O3', '-o', exe, path.join(root, 'bench', 'native', 'bench_batch.cc'), ...srcs], {
    stdio: 'inherit',
  });
}

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// The JS side of bench_batch: the same passes, batches and sample lengths.
function timeJs(set, kernelName) {
  x.useKernel(kernelName);
  const pages = set.pages;
  const calls = [];
  for (let first = 0; first < pages; first += BATCH) {
    const n = Math.min(BATCH, pages - first);
    calls.push([set.oldMem.subarray(first * P, (first + n) * P), set.newMem.subarray(first * P, (first + n) * P)]);
  }
  const out = Buffer.alloc(BATCH * P);
  const offsets = new Uint32Array(BATCH);
  const lengths = new Int32Array(BATCH);
  const opts = { out, offsets, lengths };
  const last = calls.length - 1;
  const tail = { out, offsets: offsets.subarray(0, pages - last * BATCH), lengths: lengths.subarray(0, pages - last * BATCH) };
  const pass = () => {
    for (let i = 0; i < calls.length; i++) x.encodePages(calls[i][0], calls[i][1], i === last ? tail : opts);
  };
  const cached = pages * P <= 1 << 20;
  const reps = cached ? Math.max(1, Math.floor(10000000 / (pages * 500))) : 1;
  // Warm up the JIT as well as the caches (the C side needs one pass).
  const t0 = Date.now();
  do pass();
  while (Date.now() - t0 < 200);
  const ns = [];
  for (let s = 0; s < samples; s++) {
    const c = process.cpuUsage();
    for (let r = 0; r < reps; r++) pass();
    const d = process.cpuUsage(c);
    ns.push(((d.user + d.system) * 1000) / (pages * reps));
  }
  return median(ns);
}

function timeC(files, kernelName) {
  return Number(execFileSync(exe, [files[0], files[1], kernelName, String(BATCH), String(samples)]).toString());
}

function main() {
  buildC();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xbzrle-js-vs-c-'));
  const load0 = os.loadavg();
  const rows = [];
  try {
    for (const rg of regimes) {
      for (const w of workloads) {
        const set = makePages(w, rg.pages, P);
        const files = [path.join(tmp, 'old'), path.join(tmp, 'new')];
        fs.writeFileSync(files[0], set.oldMem);
        fs.writeFileSync(files[1], set.newMem);
        const twin = ['scattered-10', 'random-50'].includes(w.name);
        const r = { regime: rg.name, workload: `${w.letter} ${w.name}`, c: [], js: [], portable: [], twin: [] };
        for (let i = 0; i < rounds; i++) {
          r.c.push(timeC(files, kernel));
          r.js.push(timeJs(set, kernel));
          if (twin) {
            r.portable.push(timeC(files, 'portable'));
            r.twin.push(timeJs(set, 'js'));
          }
        }
        rows.push(r);
        process.stderr.write('.');
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const load1 = os.loadavg();
  const f = (v) => v.toFixed(v >= 100 ? 0 : 1);
  console.log(
    `\nxbzrle js-vs-c: kernel ${kernel}, ${os.cpus().length} CPUs (${os.cpus()[0].model}), node ${process.version}, ` +
      `${rounds} rounds x ${samples} samples, batches of ${BATCH} pages`,
  );
  console.log(`load average ${load0.map((v) => v.toFixed(2)).join(' ')} at start, ${load1.map((v) => v.toFixed(2)).join(' ')} at end`);
  console.log('CPU ns per page (median of rounds); C/JS per round, median [min..max]; twin/portable likewise');
  console.log(['regime', 'workload', 'C loop', 'JS call', 'C/JS', 'portable C', 'twin', 'twin/portable'].join('\t'));
  const ratio = (a, b) => {
    const v = a.map((ai, i) => ai / b[i]);
    return `${median(v).toFixed(2)} [${Math.min(...v).toFixed(2)}..${Math.max(...v).toFixed(2)}]`;
  };
  for (const r of rows) {
    const cells = [r.regime, r.workload, f(median(r.c)), f(median(r.js)), ratio(r.c, r.js)];
    if (r.twin.length) cells.push(f(median(r.portable)), f(median(r.twin)), ratio(r.twin, r.portable));
    console.log(cells.join('\t'));
  }
}

main();
