// bench/cache.js: the figures of the cache/sender issue, measured in one run
// (plain node on dist/; `npm run build` first).
//  1. Memory: a full cache's footprint vs its size; a shared budget under
//     load (the most it ever had in use, and RSS growth).
//  2. sendPages per-page cost on the migration workload vs encoding the same
//     dirty pages alone, L2 (128 pages) and COLD (64 MiB) regimes. "Encode
//     alone" is a JS loop over the bare binding's encodeInto (one Node-API
//     call per page, as a per-page sender would make; its call cost is
//     printed too).
//  3. Hit rate of each cache policy vs cache size on five traces.
// Usage: node bench/cache.js [--quick] [--json file]   (npm run bench:cache)
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const x = require('..');
const { addon } = require('../dist/backend/binding');
const { traces, replay } = require('../dist/bench/traces');

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const jsonAt = args.indexOf('--json');
const jsonFile = jsonAt >= 0 ? args[jsonAt + 1] : path.join(__dirname, '..', 'bench-results', 'cache.json');
const P = 4096;
const results = { kernel: x.kernel(), native: x.native, quick, sendPages: [], hitRates: [], orders: [], memory: {} };

function median(a) {
  const s = [...a].sort((p, q) => p - q);
  return s[s.length >> 1];
}

// xorshift32 random bytes, deterministic.
function randomFill(buf, seed) {
  const w = new Uint32Array(buf.buffer, buf.byteOffset, buf.length >> 2);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < w.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    w[i] = s >>> 0;
  }
}

// The migration workload's page changes (test/migration.test.ts), one per
// page: B is A with this pass's writes applied. Returns the dirty page list.
function makeVersions(pages, seed, dirtyShare) {
  const A = Buffer.alloc(pages * P);
  randomFill(A, seed);
  for (let p = 0; p < pages; p += 10) A.fill(0, p * P, (p + 1) * P);
  const B = Buffer.from(A);
  let s = seed * 7 + 1;
  const rnd = (n) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
  const dirty = [];
  for (let p = 0; p < pages; p++) if (rnd(1000) < dirtyShare * 1000) dirty.push(p);
  for (const p of dirty) {
    const pg = B.subarray(p * P, (p + 1) * P);
    const k = rnd(100);
    if (k < 30) for (let i = 0; i < 16; i++) pg[rnd(P)] ^= 1 + rnd(255); // hot: 16 bytes
    else if (k < 70) pg[(p * 296) % (P - 8) & ~7] ^= 1; // a counter ticks
    else if (k < 80) for (let i = 0, at = rnd(P - 300); i < 300; i++) pg[at + i] ^= 1 + rnd(255); // a run
    else if (k < 84) for (let i = 0; i < P; i++) pg[i] = rnd(256); // full rewrite: overflow
    else if (k < 90) pg.fill(0); // zeroed
    // else: rewritten unchanged
  }
  return { A, B, dirty };
}

// sendPages vs per-page encode, alternating A -> B -> A so that every sample
// sees the same deltas (the cache holds the other version). Samples of the
// two are interleaved and the ratio is the median of per-round ratios: these
// machines are shared and noisy.
function sendPagesVsEncode(regime, pages, dirtyShare, rounds, policy) {
  const { A, B, dirty } = makeVersions(pages, 7, dirtyShare);
  const cache = new x.PageCache({ size: 2 ** Math.ceil(Math.log2(pages)) * P, policy });
  const sender = new x.Sender({ cache });
  const addrs = new Float64Array(dirty.map((p) => p * P));
  const batches = [];
  for (let k = 0; k < dirty.length; k += 256) batches.push([addrs.subarray(k, k + 256), dirty.slice(k, k + 256)]);
  const lists = (mem) => batches.map(([, idx]) => idx.map((p) => mem.subarray(p * P, (p + 1) * P)));
  const listsA = lists(A);
  const listsB = lists(B);
  const out = Buffer.alloc(x.sendPagesCapacity(256, P, 6));
  // First pass, then fill the cache with A.
  const all = Float64Array.from({ length: pages }, (_, i) => i * P);
  sender.sendPagesFrom(A, all);
  sender.nextGeneration();
  sender.sendPagesFrom(A, all);
  let flip = false;
  let counting = false;
  const kinds = [0, 0, 0, 0];
  const runSend = () => {
    flip = !flip;
    const mem = flip ? B : A;
    for (let b = 0; b < batches.length; b++) {
      const r = sender.sendPagesFrom(mem, batches[b][0], { detectZero: true, out });
      if (counting) for (const k of r.kinds) kinds[k]++;
    }
  };
  const runSendList = () => {
    flip = !flip;
    const ls = flip ? listsB : listsA;
    for (let b = 0; b < batches.length; b++) sender.sendPages(batches[b][0], ls[b], { detectZero: true, out });
  };
  const scratch = Buffer.alloc(P);
  const enc = addon ? addon.encodeInto : (o, n, out, l) => x.encodeInto(o, n, out, { limit: l });
  const pa = dirty.map((p) => A.subarray(p * P, (p + 1) * P));
  const pb = dirty.map((p) => B.subarray(p * P, (p + 1) * P));
  let eflip = false;
  const runEncode = () => {
    eflip = !eflip;
    const [o, n] = eflip ? [pa, pb] : [pb, pa];
    for (let i = 0; i < o.length; i++) enc(o[i], n[i], scratch, P);
  };
  // An even number of passes per sample keeps the cache and `flip` in step.
  const reps = regime === 'L2' ? 40 : 2;
  // CPU time of this thread, not wall time: on a shared, loaded machine the
  // wall clock also counts the time other processes ran.
  const time = (fn) => {
    const c0 = process.cpuUsage();
    for (let r = 0; r < reps; r++) fn();
    const c = process.cpuUsage(c0);
    return ((c.user + c.system) * 1000) / (reps * dirty.length);
  };
  for (let w = 0; w < 4; w++) {
    runSend();
    runSendList();
    runEncode();
  }
  const s = [];
  const l = [];
  const e = [];
  const ratio = [];
  const ratioList = [];
  for (let k = 0; k < rounds; k++) {
    s.push(time(runSend));
    e.push(time(runEncode));
    l.push(time(runSendList));
    ratio.push(s[k] / e[k]);
    ratioList.push(l[k] / e[k]);
  }
  const tiny = Buffer.alloc(1);
  const call = addon ? timeCall(() => addon.encodeInto(tiny, tiny, scratch, 1)) : 0;
  counting = true; // count kinds once, untimed
  runSend();
  runSend();
  cache.close();
  const send = median(s);
  const encode = median(e);
  return {
    regime,
    policy,
    pages: dirty.length,
    sendPagesNs: send,
    sendPagesListNs: median(l),
    encodeNs: encode,
    ratio: median(ratio),
    ratioList: median(ratioList),
    callNs: call,
    ratioKernelOnly: send / (encode - call),
    kinds: { skip: kinds[0] / 2, raw: kinds[1] / 2, xbzrle: kinds[2] / 2, zero: kinds[3] / 2 },
  };
}

function timeCall(fn) {
  const per = [];
  for (let s = 0; s < 9; s++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < 100000; i++) fn();
    const c = process.cpuUsage(c0);
    per.push(((c.user + c.system) * 1000) / 100000);
  }
  return median(per);
}

function reorder(t, how) {
  let s = 12345;
  const rnd = (n) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
  return {
    ...t,
    passes: t.passes.map((p) => {
      const a = Array.from(p);
      if (how === 'descending') a.reverse();
      else if (how === 'rotated') a.push(...a.splice(0, rnd(a.length)));
      else if (how === 'shuffled')
        for (let i = a.length - 1; i > 0; i--) {
          const j = rnd(i + 1);
          [a[i], a[j]] = [a[j], a[i]];
        }
      return Uint32Array.from(a);
    }),
  };
}

function pad(s, n) {
  return String(s).padStart(n);
}

console.log(`kernel ${x.kernel()}${x.native ? '' : ' (TypeScript twin: no addon)'}`);

// 1. Memory (first: before the big buffers of the other parts).
console.log('\n1. Memory');
global.gc?.();
const rss0 = process.memoryUsage().rss;
const big = new x.PageCache({ size: 64 << 20 });
const pg = Buffer.alloc(P, 1);
const rssEmpty = process.memoryUsage().rss;
for (let i = 0; i < 16384; i++) big.insert(i * P, pg, 1);
const m = big.memoryUsage;
const rssFull = process.memoryUsage().rss;
console.log(
  `   64 MiB cache: empty +${((rssEmpty - rss0) / 1048576).toFixed(2)} MiB RSS; full: pages ${(m.pages / 1048576).toFixed(1)} MiB, ` +
    `metadata ${(m.metadata / 1024).toFixed(0)} KiB (${((100 * m.metadata) / m.pages).toFixed(2)}% of the size), RSS +${((rssFull - rss0) / 1048576).toFixed(1)} MiB`,
);
results.memory.fullCache = { size: 64 << 20, pages: m.pages, metadata: m.metadata, rssEmpty: rssEmpty - rss0, rssFull: rssFull - rss0 };
big.close();
global.gc?.();
const budget = new x.MemoryBudget(48 << 20);
const caches = Array.from({ length: 4 }, (_, i) => new x.PageCache({ size: 32 << 20, budget, policy: i & 1 ? 'associative' : 'qemu' }));
const rssB0 = process.memoryUsage().rss;
let maxUsed = 0;
let refused = 0;
for (let g = 1; g <= 6; g++) {
  for (const c of caches) if (!c.closed) for (let i = 0; i < 8192; i++) c.insert(((i * 2654435761) % 65536) * P, pg, g);
  maxUsed = Math.max(maxUsed, budget.used);
  if (g === 3) caches[0].resize(8 << 20);
  if (g === 4) caches[1].close();
}
refused = caches.reduce((n, c) => n + c.stats.refusedBudget, 0);
const rssB = process.memoryUsage().rss;
console.log(
  `   4 caches of 32 MiB on a 48 MiB budget: most in use ${(maxUsed / 1048576).toFixed(2)} MiB (never above 48), ` +
    `${refused} inserts refused and counted, RSS +${((rssB - rssB0) / 1048576).toFixed(1)} MiB`,
);
results.memory.budget = { size: 48 << 20, maxUsed, refused, rss: rssB - rssB0 };
for (const c of caches) c.close();

// 2. sendPages vs encode alone.
console.log('\n2. Per-page work: sendPages (lookup, encode, cache update, records) vs encoding the same pages alone');
console.log('   encode alone = a JS loop over the bare binding encodeInto (one call per page);');
console.log('   sendPagesFrom reads the dirty pages from the memory image, sendPages takes a list of page views;');
console.log('   CPU time per page; ratios: median of per-round ratios (rounds interleaved)');
const rows = [];
for (const policy of ['qemu', 'associative']) {
  rows.push(sendPagesVsEncode('L2', 128, 1, quick ? 5 : 15, policy));
  rows.push(sendPagesVsEncode('COLD', 16384, 0.25, quick ? 3 : 9, policy));
}
console.log(
  ['regime', 'policy', 'pages', 'From ns/page', 'list ns/page', 'encode ns/pg', 'From/encode', 'list/encode', 'call ns', 'From/kernel*']
    .map((h, i) => pad(h, i < 2 ? 12 : 14))
    .join(''),
);
for (const r of rows) {
  console.log(
    [r.regime, r.policy, r.pages, r.sendPagesNs.toFixed(0), r.sendPagesListNs.toFixed(0), r.encodeNs.toFixed(0), r.ratio.toFixed(2) + 'x', r.ratioList.toFixed(2) + 'x', r.callNs.toFixed(0), r.ratioKernelOnly.toFixed(2) + 'x']
      .map((v, i) => pad(v, i < 2 ? 12 : 14))
      .join(''),
  );
}
console.log('   * From/kernel: sendPagesFrom over (encode - call cost), an estimate of the kernel alone');
console.log('   kinds per pass:', rows.map((r) => `${r.regime}/${r.policy} ${JSON.stringify(r.kinds)}`).join('; '));
results.sendPages = rows;

// 3. Hit rates.
console.log('\n3. Hit rate (%) vs cache size, 64 MiB guest, 8 passes: qemu / associative (8-way)');
const ts = traces(16384, 8, 1);
const sizes = quick ? [256, 2048, 8192] : [256, 1024, 2048, 4096, 8192, 16384];
console.log(pad('trace', 9) + sizes.map((n) => pad(`${(n * P) >> 20} MiB`, 20)).join('') + pad('min diff', 10) + pad('max diff', 10));
for (const t of ts) {
  const cells = [];
  const diffs = [];
  for (const n of sizes) {
    const q = replay(t, 'qemu', n).hitRate;
    const a = replay(t, 'associative', n).hitRate;
    diffs.push(a - q);
    cells.push(`${q.toFixed(1)} / ${a.toFixed(1)}`);
    results.hitRates.push({ trace: t.name, cachePages: n, qemu: q, associative: a });
  }
  console.log(pad(t.name, 9) + cells.map((c) => pad(c, 20)).join('') + pad(Math.min(...diffs).toFixed(2), 10) + pad(Math.max(...diffs).toFixed(2), 10));
}
for (const t of ts) console.log(`   ${t.name}: ${t.description}`);
console.log('   Visit order (QEMU walks the bitmap upwards): associative - qemu, min / max over traces and sizes');
for (const how of ['ascending', 'rotated', 'descending', 'shuffled']) {
  const d = [];
  for (const t0 of ts) {
    const t = how === 'ascending' ? t0 : reorder(t0, how);
    for (const n of sizes) d.push(replay(t, 'associative', n).hitRate - replay(t, 'qemu', n).hitRate);
  }
  results.orders.push({ order: how, min: Math.min(...d), max: Math.max(...d) });
  console.log(`   ${pad(how, 11)} ${pad(Math.min(...d).toFixed(2), 7)} / ${pad(Math.max(...d).toFixed(2), 6)}`);
}

fs.mkdirSync(path.dirname(jsonFile), { recursive: true });
fs.writeFileSync(jsonFile, JSON.stringify(results, null, 2));
console.log(`\nJSON: ${path.relative(process.cwd(), jsonFile)}`);
