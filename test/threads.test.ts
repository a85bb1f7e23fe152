// threads.test.ts: the addon in 4 worker_threads at once, kernel choice per
// thread, results checked against the main thread's; a worker terminated
// during an async batch does not take the process down.
import { Worker } from 'node:worker_threads';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import * as x from '../lib';

const root = path.join(__dirname, '..');
const P = 4096;
const N = 64;

function pages(seed: number): Buffer {
  const b = Buffer.alloc(N * P);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < b.length; i += 4) {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    b.writeUInt32LE(s >>> 0, i);
  }
  return b;
}
function mutate(old: Buffer): Buffer {
  const b = Buffer.from(old);
  for (let k = 0; k < N; k++) {
    const o = k * P;
    if (k % 4 === 0) continue; // same
    if (k % 4 === 1) b[o + 100] ^= 1;
    else if (k % 4 === 2) for (let i = 0; i < P; i += 32) b[o + i] ^= 0xff;
    else pages(k + 7).copy(b, o, 0, P); // overflow
  }
  return b;
}
const sha = (b: string | NodeJS.ArrayBufferView) => createHash('sha256').update(b).digest('hex');

// The worker: plain JS, requires the built package from the repo root.
const workerSrc = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const x = require(workerData.root);
const binding = require(workerData.root + '/dist/backend/binding.js');
const sha = (b) => createHash('sha256').update(b).digest('hex');
const { oldPages, newPages, P, N, mine, mode } = workerData;
const oldB = Buffer.from(oldPages), newB = Buffer.from(newPages);
async function main() {
  if (mode === 'terminate') {
    const big = Buffer.alloc(4096 * 4096), big2 = Buffer.alloc(4096 * 4096, 1);
    parentPort.postMessage({ started: true });
    for (;;) await x.encodePagesAsync(big, big2, { threads: 2 });
  }
  x.useKernel(mine);
  // Wait until every worker has chosen its kernel, then check ours held
  // (the listener goes on before we report, so 'go' cannot be missed).
  const go = new Promise((r) => parentPort.once('message', r));
  parentPort.postMessage({ set: mine });
  await go;
  const out = { kernel: x.kernel(), nativeKernel: binding.addon ? binding.addon.kernel() : null, rounds: [] };
  for (let round = 0; round < 5; round++) {
    const singles = [];
    for (let k = 0; k < N; k++) {
      const d = x.encode(oldB.subarray(k * P, (k + 1) * P), newB.subarray(k * P, (k + 1) * P));
      singles.push(d === null ? 'null' : sha(d));
      if (d) {
        const back = x.decode(oldB.subarray(k * P, (k + 1) * P), d);
        if (!back.equals(newB.subarray(k * P, (k + 1) * P))) throw new Error('decode mismatch');
      }
    }
    const r = x.encodePages(oldB, newB);
    const ra = await x.encodePagesAsync(oldB, newB);
    const work = Buffer.from(oldB);
    await x.decodePagesAsync(ra.data, ra.offsets, ra.lengths, work);
    const work2 = Buffer.from(oldB);
    x.decodePages(r.data, r.offsets, r.lengths, work2);
    const cache = new x.PageCache({ size: 16 * P });
    const sender = new x.Sender({ cache });
    const receiver = new x.Receiver();
    const dst = Buffer.from(oldB);
    for (const src of [oldB, newB]) {
      for (let k = 0; k < N; k++) {
        const res = sender.sendPage(k * P, src.subarray(k * P, (k + 1) * P));
        const d = dst.subarray(k * P, (k + 1) * P);
        if (res.kind === 'raw') res.body.copy(d);
        else if (res.kind === 'xbzrle') receiver.applyRecord(d, res.body);
      }
      sender.nextGeneration();
    }
    cache.close();
    out.rounds.push({
      singles: sha(singles.join()),
      batch: sha(r.data) + ':' + sha(r.lengths),
      async: sha(ra.data) + ':' + sha(ra.lengths),
      decoded: sha(work), decoded2: sha(work2), sent: sha(dst),
    });
    if (x.kernel() !== mine) throw new Error('kernel changed under us');
  }
  out.kernelAfter = x.kernel();
  out.nativeKernelAfter = binding.addon ? binding.addon.kernel() : null;
  parentPort.postMessage(out);
}
main().catch((e) => { parentPort.postMessage({ error: String(e && e.stack || e) }); });
`;

const oldPages = pages(42);
const newPages = mutate(oldPages);

function expected() {
  const singles: string[] = [];
  for (let k = 0; k < N; k++) {
    const d = x.encode(oldPages.subarray(k * P, (k + 1) * P), newPages.subarray(k * P, (k + 1) * P));
    singles.push(d === null ? 'null' : sha(d));
  }
  const r = x.encodePages(oldPages, newPages);
  const work = Buffer.from(oldPages);
  x.decodePages(r.data, r.offsets, r.lengths, work);
  return {
    singles: sha(singles.join()),
    batch: sha(r.data) + ':' + sha(r.lengths),
    async: sha(r.data) + ':' + sha(r.lengths),
    decoded: sha(work),
    decoded2: sha(work),
    sent: sha(newPages),
  };
}

test('4 workers at once, each on its own kernel, match the main thread', async () => {
  const want = expected();
  const ks = x.kernels();
  const before = x.kernel();
  const picks = [0, 1, 2, 3].map((i) => ks[(ks.length - 1 - i + ks.length) % ks.length]); // 'js' first, then native ones
  const workers = picks.map(
    (mine) => new Worker(workerSrc, { eval: true, workerData: { root, oldPages, newPages, P, N, mine, mode: 'work' } }),
  );
  // Each worker exits by itself once its work is done: listen for that from
  // the start, or an exit before the listener would never be seen.
  const exits = workers.map((w) => new Promise<number>((r) => w.once('exit', r)));
  const sets = workers.map((w) => new Promise((r, j) => { w.once('message', r); w.once('error', j); }));
  const first = await Promise.all(sets);
  for (const m of first as { error?: string }[]) expect(m.error).toBeUndefined();
  const results = workers.map((w) => new Promise<any>((res, rej) => { w.once('message', res); w.once('error', rej); }));
  for (const w of workers) w.postMessage('go');
  const outs = await Promise.all(results);
  outs.forEach((o, i) => {
    expect(o.error).toBeUndefined();
    expect(o.kernel).toBe(picks[i]);
    expect(o.kernelAfter).toBe(picks[i]);
    if (picks[i] !== 'js' && o.nativeKernel !== null) {
      expect(o.nativeKernel).toBe(picks[i]);
      expect(o.nativeKernelAfter).toBe(picks[i]);
    }
    expect(o.rounds).toHaveLength(5);
    for (const r of o.rounds) expect(r).toEqual(want);
  });
  expect(x.kernel()).toBe(before);
  const codes = await Promise.all(exits);
  for (const c of codes) expect(c).toBe(0);
});

test('a worker terminated during an async batch does not crash the process', async () => {
  const w = new Worker(workerSrc, { eval: true, workerData: { root, oldPages, newPages, P, N, mine: 'x', mode: 'terminate' } });
  await new Promise((r) => w.once('message', r));
  await new Promise((r) => setTimeout(r, 50));
  const code = await w.terminate();
  expect(code).toBe(1);
  // Still working here afterwards.
  const r = await x.encodePagesAsync(oldPages, newPages);
  expect(Array.from(r.lengths)).toEqual(Array.from(x.encodePages(oldPages, newPages).lengths));
});
