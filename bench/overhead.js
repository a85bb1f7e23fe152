// bench/overhead.js: the figures of the codec-core issue, measured in one run.
//  - portable encoder on an unchanged 4 KiB page vs Buffer.compare of the same
//    two pages (a full read of both: the floor), L2 regime (128 pairs);
//  - the per-call cost of encodeInto from JS (a 1-byte page, so the kernel
//    does nothing) and of the bare binding call.
'use strict';
const x = require('..');
const { addon } = require('../dist/backend/binding');

function median(a) {
  const s = [...a].sort((p, q) => p - q);
  return s[s.length >> 1];
}

// Runs fn(i) `iters` times per sample; returns the median ns per call. Each
// measurement gets a loop of its own, so one call site never sees several
// functions (a shared, megamorphic site would add its own cost to every row).
function time(fn, iters, samples = 15) {
  const loop = new Function('fn', 'iters', 'for (let i = 0; i < iters; i++) fn(i);');
  const per = [];
  for (let s = 0; s < samples; s++) {
    const t0 = process.hrtime.bigint();
    loop(fn, iters);
    per.push(Number(process.hrtime.bigint() - t0) / iters);
  }
  return median(per);
}

const P = 4096;
const N = 128;
const oldMem = Buffer.alloc(P * N);
for (let i = 0; i < oldMem.length; i++) oldMem[i] = (i * 2654435761) >>> 24;
const newMem = Buffer.from(oldMem);
const pages = (mem) => Array.from({ length: N }, (_, k) => mem.subarray(k * P, (k + 1) * P));
const olds = pages(oldMem);
const news = pages(newMem);
const out = Buffer.alloc(P);

if (x.native) x.useKernel('portable');
const floor = time(() => Buffer.compare(oldMem, newMem), 200) / N;
const enc = time((i) => x.encodeInto(olds[i & (N - 1)], news[i & (N - 1)], out), 20000);
const encBare = addon ? time((i) => addon.encodeInto(olds[i & (N - 1)], news[i & (N - 1)], out, P), 20000) : NaN;
const tiny = Buffer.alloc(1);
const tiny2 = Buffer.alloc(1);
const call = time(() => x.encodeInto(tiny, tiny2, out), 200000);
const bareCall = addon ? time(() => addon.encodeInto(tiny, tiny2, out, 1), 200000) : NaN;

const rows = [
  ['kernel', x.kernel()],
  ['Buffer.compare floor, ns/page (L2, 128 pairs)', floor.toFixed(1)],
  ['encodeInto unchanged page, ns/page', enc.toFixed(1)],
  ['ratio to the compare floor', (enc / floor).toFixed(2) + 'x'],
  ['same through the bare binding, ns/page', encBare.toFixed(1)],
  ['kernel alone (bare minus bare call), ratio to floor', ((encBare - bareCall) / floor).toFixed(2) + 'x'],
  ['encodeInto per-call cost from JS (1-byte page), ns', call.toFixed(1)],
  ['bare binding call (no argument checks), ns', bareCall.toFixed(1)],
];
for (const [k, v] of rows) console.log(k.padEnd(52), v);
