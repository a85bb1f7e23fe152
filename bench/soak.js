#!/usr/bin/env node
// soak.js: long-running leak check of the built package (dist/ + the addon).
//
//   node --expose-gc bench/soak.js [--quick] [--scale=F] [--bound-mib=N]
//   npm run soak [-- --quick]
//
// Runs 10 million page encodes/decodes in total (encodeInto/decodeInto on
// 4 KiB pages of a few shapes; encodePages/decodePages and their async forms,
// counting each page), 1,000 PageCache create/insert/close cycles (half with
// a MemoryBudget, some left to the garbage collector instead of close()) and
// 1,000 Sender/Receiver create/use cycles, checking every result. RSS is
// taken after a warm-up and again at the end, each time after forced gc()
// rounds; the run fails (exit 1) when it grew by more than the bound.
//
// --quick (or SOAK_SCALE=0.02) does 1/50 of the work; SOAK_SCALE / --scale
// set any fraction. The last line of output is `SOAK {json}` with the figures.
//
// Why 16 MiB: a leak proportional to the work is either per call or per
// object. The smallest per-call allocation the addon could lose (a napi
// reference, a job record, a delta-sized buffer) is tens of bytes: over 10
// million calls that is hundreds of MiB, and even 2 bytes per call is 19 MiB.
// The smallest per-object loss (a cache's slot table, a 1 MiB page array, a
// sender) times 1,000 cycles is at least tens of MiB. What RSS does without a
// leak is bounded by the working set the warm-up already touched: V8's heap
// after gc() (it does not return every page to the OS), glibc's per-thread
// malloc arenas of the libuv pool threads, a few MiB of allocator slack. So
// 16 MiB sits above the noise (a few MiB in practice, see the figures) and
// below any real leak at full scale. At --quick scale a leak must be about
// 80 bytes per call or 16 KiB per cycle to show: the quick run is a smoke
// test of the harness, the full run is the check.
'use strict';

const path = require('node:path');
const { spawnSync } = require('node:child_process');

// glibc raises its mmap threshold each time a large mmapped block is freed,
// after which 1 MiB cache arrays come from the heap and, freed, mostly stay
// in RSS (fragmentation): RSS would then measure the allocator's history, not
// live memory. A fixed threshold keeps large blocks mmapped, returned on free.
if (typeof globalThis.gc !== 'function' || process.env.MALLOC_MMAP_THRESHOLD_ === undefined) {
  // Re-run with --expose-gc rather than measure without forced collections.
  const r = spawnSync(process.execPath, ['--expose-gc', __filename, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { MALLOC_MMAP_THRESHOLD_: '131072', ...process.env },
  });
  process.exit(r.status ?? 1);
}

const x = require(path.join(__dirname, '..'));

// ---- options ---------------------------------------------------------------
const argv = process.argv.slice(2);
let scale = 1;
let boundMiB = 16;
if (process.env.SOAK_SCALE) scale = Number(process.env.SOAK_SCALE);
for (const a of argv) {
  if (a === '--quick') scale = 1 / 50;
  else if (a.startsWith('--scale=')) scale = Number(a.slice(8));
  else if (a.startsWith('--bound-mib=')) boundMiB = Number(a.slice(12));
  else if (a === '-h' || a === '--help') {
    console.log('usage: node --expose-gc bench/soak.js [--quick] [--scale=F] [--bound-mib=N]  (env SOAK_SCALE=F)');
    process.exit(0);
  } else {
    console.error(`soak: unknown argument ${a}`);
    process.exit(2);
  }
}
if (!(scale > 0) || !(boundMiB > 0)) {
  console.error('soak: scale and bound must be positive numbers');
  process.exit(2);
}

// SOAK_ONLY=singles,batches,async,caches,senders: only those kinds (diagnosis).
const only = process.env.SOAK_ONLY ? new Set(process.env.SOAK_ONLY.split(',')) : null;
const runs = (kind) => !only || only.has(kind);

const P = x.PAGE_SIZE;
const TOTAL = Math.round(10_000_000 * scale); // page encodes + decodes
const CYCLES = Math.max(10, Math.round(1000 * scale)); // cache cycles, sender cycles
const BATCH = 64; // pages per sync batch
const ABATCH = 256; // pages per async batch
// Shares of TOTAL: single calls 40%, sync batches 50%, async batches 10%.
const plan = {
  single: Math.round(TOTAL * 0.2), // encodeInto calls; as many decodeInto
  batches: Math.round((TOTAL * 0.25) / BATCH), // encodePages calls; as many decodePages
  asyncBatches: Math.round((TOTAL * 0.05) / ABATCH), // encodePagesAsync; as many decodePagesAsync
};

function fail(msg) {
  console.error(`soak: FAIL: ${msg}`);
  process.exit(1);
}

// ---- pages -----------------------------------------------------------------
let seed = 0x9e3779b9;
function rand() {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return seed >>> 0;
}
function randomPage() {
  const b = Buffer.allocUnsafe(P);
  for (let i = 0; i < P; i += 4) b.writeUInt32LE(rand(), i);
  return b;
}

const shapes = [];
function shape(name, old, mutate) {
  const neu = Buffer.from(old);
  mutate(neu);
  shapes.push({ name, old, new: neu });
}
const base = randomPage();
shape('same', base, () => {});
shape('one-byte', base, (b) => (b[2000] ^= 0x5a));
shape('sparse', base, (b) => {
  for (let i = 0; i < P; i += 64) b[i] ^= 1;
});
shape('run-512', base, (b) => {
  for (let i = 1024; i < 1536; i++) b[i] ^= 0xff;
});
shape('words', base, (b) => {
  for (let i = 0; i < P; i += 16) b.writeUInt32LE(~b.readUInt32LE(i) >>> 0, i);
});
shape('random', base, (b) => randomPage().copy(b)); // overflows: delta > page

// Expected deltas from the TypeScript twin; every native kernel must agree.
const native = x.kernels().filter((k) => k !== 'js');
x.useKernel('js');
for (const s of shapes) {
  s.delta = x.encode(s.old, s.new);
  s.len = s.delta === null ? -1 : s.delta.length;
}
for (const k of native) {
  x.useKernel(k);
  for (const s of shapes) {
    const d = x.encode(s.old, s.new);
    if ((d === null ? -1 : d.length) !== s.len || (d && !d.equals(s.delta))) fail(`kernel ${k} differs on shape ${s.name}`);
    if (d) {
      const back = x.decode(s.old, d);
      if (!back.equals(s.new)) fail(`decode differs on shape ${s.name}`);
    }
  }
}
if (native.length === 0) console.warn('soak: no native addon: soaking the TypeScript twin');
const kernelsRun = native.length ? native : ['js'];
x.useKernel(kernelsRun[0]);
const decodable = shapes.filter((s) => s.len >= 0);

// Batches: page k of a batch is shape k % shapes.length.
function batchOf(n) {
  const oldPages = Buffer.alloc(n * P);
  const newPages = Buffer.alloc(n * P);
  const decoded = Buffer.alloc(n * P); // old + delta; old again where the page overflowed
  const lengths = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const s = shapes[k % shapes.length];
    s.old.copy(oldPages, k * P);
    s.new.copy(newPages, k * P);
    (s.len < 0 ? s.old : s.new).copy(decoded, k * P);
    lengths[k] = s.len;
  }
  return { n, oldPages, newPages, decoded, lengths, work: Buffer.alloc(n * P), out: Buffer.alloc(n * P) };
}
const sb = batchOf(BATCH);
const ab = batchOf(ABATCH);

// ---- the work ----------------------------------------------------------------
const counts = {
  encodeInto: 0,
  decodeInto: 0,
  encodePagesPages: 0,
  decodePagesPages: 0,
  asyncEncodedPages: 0,
  asyncDecodedPages: 0,
  asyncAborted: 0,
  cacheCycles: 0,
  cacheCyclesBudget: 0,
  cachesLeftToGc: 0,
  cacheInserts: 0,
  senderCycles: 0,
  sentPages: 0,
};

const out = Buffer.alloc(P);
const work = Buffer.alloc(P);
function singles(n) {
  const S = shapes.length;
  const D = decodable.length;
  for (let i = 0; i < n; i++) {
    const s = shapes[i % S];
    const len = x.encodeInto(s.old, s.new, out);
    if (len !== s.len) fail(`encodeInto ${s.name}: ${len}, expected ${s.len}`);
    const d = decodable[i % D];
    d.old.copy(work);
    x.decodeInto(d.delta, work);
    if ((i & 1023) === 0) {
      if (!work.equals(d.new)) fail(`decodeInto ${d.name}: wrong page`);
      if (len > 0 && !out.subarray(0, len).equals(s.delta)) fail(`encodeInto ${s.name}: wrong delta`);
    }
  }
  counts.encodeInto += n;
  counts.decodeInto += n;
}

function checkLengths(b, lengths, what) {
  for (let k = 0; k < b.n; k++) if (lengths[k] !== b.lengths[k]) fail(`${what}: page ${k} length ${lengths[k]}, expected ${b.lengths[k]}`);
}

function batches(n) {
  for (let i = 0; i < n; i++) {
    // Odd calls reuse `out`; even ones allocate their result (for the GC to collect).
    const r = x.encodePages(sb.oldPages, sb.newPages, i & 1 ? { out: sb.out } : undefined);
    checkLengths(sb, r.lengths, 'encodePages');
    sb.oldPages.copy(sb.work);
    x.decodePages(r.data, r.offsets, r.lengths, sb.work);
    if ((i & 15) === 0 && !sb.work.equals(sb.decoded)) fail('decodePages: wrong pages');
  }
  counts.encodePagesPages += n * BATCH;
  counts.decodePagesPages += n * BATCH;
}

let asyncCalls = 0;
async function asyncBatches(n) {
  for (let i = 0; i < n; i++) {
    let signal;
    if (++asyncCalls % 8 === 0) {
      // Cancelled mid-flight now and then: the job must still release everything.
      const ac = new AbortController();
      signal = ac.signal;
      setImmediate(() => ac.abort());
    }
    let r;
    try {
      r = await x.encodePagesAsync(ab.oldPages, ab.newPages, { out: ab.out, signal, threads: 2 });
    } catch (e) {
      if (e.name !== 'AbortError') throw e;
      counts.asyncAborted++;
      continue;
    }
    checkLengths(ab, r.lengths, 'encodePagesAsync');
    counts.asyncEncodedPages += ABATCH;
    ab.oldPages.copy(ab.work);
    await x.decodePagesAsync(r.data, r.offsets, r.lengths, ab.work, { threads: 2 });
    if (!ab.work.equals(ab.decoded)) fail('decodePagesAsync: wrong pages');
    counts.asyncDecodedPages += ABATCH;
  }
}

function cacheCycles(n) {
  for (let j = 0; j < n; j++) {
    const i = counts.cacheCycles;
    const budget = i & 1 ? new x.MemoryBudget(2 << 20) : undefined;
    // Every fourth cache is left to the garbage collector instead of close().
    // The addon does not report a cache's page memory to V8
    // (napi_adjust_external_memory), so unclosed caches add no GC pressure and
    // pile up until a collection the JS heap triggers: those are kept small
    // (64 KiB) so that pile-up, which is not a leak, does not swamp the figures.
    const leftToGc = i % 4 === 3;
    const cache = new x.PageCache({ size: leftToGc ? 16 * P : 1 << 20, budget, policy: i & 2 ? 'associative' : 'qemu' });
    const pages = leftToGc ? 16 : 512; // twice the cache: evictions too (the small ones: just full)
    for (let a = 0; a < pages; a++) {
      cache.insert(a * P, shapes[a % shapes.length].new, 1 + (a >> 6));
    }
    counts.cacheInserts += pages;
    if (!cache.lookup((pages - 1) * P, 9)) fail('PageCache: last insert not found');
    const got = cache.get((pages - 1) * P);
    if (!got || !got.equals(shapes[(pages - 1) % shapes.length].new)) fail('PageCache.get: wrong page');
    if (leftToGc) {
      // No close(): the finalizer must free it. V8 does not see its memory,
      // so collect now and then, or the pile-up (and the allocator's
      // fragmentation after it) would dominate RSS.
      if (++counts.cachesLeftToGc % 16 === 0) globalThis.gc();
    } else {
      cache.close();
      if (budget && budget.used !== 0) fail(`MemoryBudget: ${budget.used} bytes still used after close()`);
    }
    counts.cacheCycles++;
    if (budget) counts.cacheCyclesBudget++;
  }
}

const SP = 32; // pages per sender cycle
const src = Buffer.alloc(SP * P);
const dst = Buffer.alloc(SP * P);
function senderCycles(n) {
  for (let i = 0; i < n; i++) {
    const cache = new x.PageCache({ size: 64 * P });
    const sender = new x.Sender({ cache });
    const receiver = new x.Receiver();
    for (let k = 0; k < SP; k++) shapes[k % shapes.length].old.copy(src, k * P);
    dst.fill(0xee);
    for (let pass = 0; pass < 3; pass++) {
      if (pass === 1) for (let k = 0; k < SP; k++) shapes[k % shapes.length].new.copy(src, k * P);
      if (pass === 2) for (let k = 0; k < SP; k += 3) src.fill(0, k * P, (k + 1) * P);
      for (let k = 0; k < SP; k++) {
        const page = src.subarray(k * P, (k + 1) * P);
        const r = sender.sendPage(k * P, page, { detectZero: true });
        const d = dst.subarray(k * P, (k + 1) * P);
        if (r.kind === 'raw') r.body.copy(d);
        else if (r.kind === 'xbzrle') receiver.applyRecord(d, r.body);
        else if (r.kind === 'zero') d.fill(0);
      }
      counts.sentPages += SP;
      if (!dst.equals(src)) fail(`Sender/Receiver: pass ${pass} of cycle ${i}: destination differs`);
      sender.nextGeneration();
    }
    // One batch send per cycle too (its records are checked by the sender tests).
    const addrs = Array.from({ length: SP }, (_, k) => k * P);
    const r = sender.sendPages(addrs, src, { lastStage: true });
    if (r.kinds.length !== SP) fail('Sender.sendPages: wrong number of kinds');
    counts.sentPages += SP;
    cache.close();
    counts.senderCycles++;
  }
}

// ---- measurement ---------------------------------------------------------------
const MiB = 1 << 20;
const tick = () => new Promise((r) => setImmediate(r));
async function settle() {
  // Several rounds: finalizers of native objects run after the collection
  // that finds them (some on a later tick), and free more on the next one.
  for (let i = 0; i < 6; i++) {
    globalThis.gc();
    await tick();
  }
  return process.memoryUsage();
}
const mib = (n) => (n / MiB).toFixed(1);
let peak = 0;
const sample = () => (peak = Math.max(peak, process.memoryUsage.rss()));

// SOAK_TRACE=1: RSS after each kind of work (to find what grows).
const trace = process.env.SOAK_TRACE ? (what) => console.log(`  ${what}: rss ${mib(process.memoryUsage.rss())} MiB`) : () => {};

// Step s of `steps` of n units of work.
const share = (n, s, steps) => Math.floor(((s + 1) * n) / steps) - Math.floor((s * n) / steps);

async function phase(fraction, warm) {
  // `fraction` of every kind of work in ten steps, cycling through the native
  // kernels; the warm-up does at least a little of each kind.
  const at = (n, min) => Math.max(warm ? min : 0, Math.round(n * fraction));
  const n = {
    single: at(plan.single, 1000),
    batches: at(plan.batches, 20),
    asyncBatches: at(plan.asyncBatches, 16),
    cache: at(CYCLES, 8),
    sender: at(CYCLES, 4),
  };
  const steps = 10;
  for (let s = 0; s < steps; s++) {
    x.useKernel(kernelsRun[s % kernelsRun.length]);
    if (runs('singles')) singles(share(n.single, s, steps));
    trace('singles');
    if (runs('batches')) batches(share(n.batches, s, steps));
    trace('batches');
    if (runs('async')) await asyncBatches(share(n.asyncBatches, s, steps));
    trace('async');
    if (runs('caches')) cacheCycles(share(n.cache, s, steps));
    trace('caches');
    if (runs('senders')) senderCycles(share(n.sender, s, steps));
    trace('senders');
    sample();
  }
  return n;
}

async function main() {
  const t0 = process.hrtime.bigint();
  console.log(
    `soak: scale ${scale}, ${TOTAL} page encodes/decodes, ${CYCLES} cache + ${CYCLES} sender cycles, kernels ${kernelsRun.join(', ')}, bound ${boundMiB} MiB`,
  );
  const WARM = 0.05;
  const w = await phase(WARM, true);
  const before = await settle();
  console.log(`soak: after warm-up: rss ${mib(before.rss)} MiB, heapUsed ${mib(before.heapUsed)} MiB, external ${mib(before.external)} MiB`);
  const tMain = process.hrtime.bigint();
  await phase(1 - WARM, false);
  void w;
  const after = await settle();
  const t1 = process.hrtime.bigint();
  const pageOps =
    counts.encodeInto + counts.decodeInto + counts.encodePagesPages + counts.decodePagesPages + counts.asyncEncodedPages + counts.asyncDecodedPages;
  const grew = after.rss - before.rss;
  const seconds = Number(t1 - t0) / 1e9;
  console.log(`soak: at the end:    rss ${mib(after.rss)} MiB, heapUsed ${mib(after.heapUsed)} MiB, external ${mib(after.external)} MiB, peak rss ${mib(peak)} MiB`);
  console.log(`soak: counts: ${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  console.log(
    `soak: ${pageOps} page encodes/decodes in ${seconds.toFixed(1)} s (main phase ${(Number(t1 - tMain) / 1e9).toFixed(1)} s); rss grew ${mib(grew)} MiB (bound ${boundMiB} MiB)`,
  );
  const report = {
    ok: grew <= boundMiB * MiB,
    scale,
    pageOps,
    counts,
    rssBefore: before.rss,
    rssAfter: after.rss,
    rssPeak: peak,
    rssGrowth: grew,
    boundBytes: boundMiB * MiB,
    seconds,
    kernels: kernelsRun,
  };
  console.log(`SOAK ${JSON.stringify(report)}`);
  if (!report.ok) fail(`rss grew by ${mib(grew)} MiB, more than ${boundMiB} MiB`);
  console.log('soak: OK');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
