// encodePagesAsync / decodePagesAsync: the same results as the sync forms
// however the batch is split, cancellation that leaks nothing, several
// worker threads at once, and callers that keep writing during a call.
import { execFileSync } from 'node:child_process';
import { getEventListeners } from 'node:events';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  AbortError,
  XbzrleError,
  decodePages,
  decodePagesAsync,
  encodePages,
  encodePagesAsync,
  type EncodedPages,
} from '../lib';
import { addon } from '../lib/backend/binding';
import { split } from '../lib/codec/async';
import { eachKernel } from './helpers/kernels';
import { testIf, testIfAddon } from './helpers/skip';
import { pageOf, randomBatch, rng, unpack } from './helpers/batches';

const P = 4096;
const root = path.join(__dirname, '..');

function same(a: EncodedPages, b: EncodedPages): void {
  expect(a.data.equals(b.data)).toBe(true);
  expect([...a.offsets]).toEqual([...b.offsets]);
  expect([...a.lengths]).toEqual([...b.lengths]);
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

// Workers and child processes load the package as users do: the built dist/.
beforeAll(() => {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: root,
  });
});

test('the split: one work below 512 KiB per thread, chunks for late starters', () => {
  expect(split(0, P)).toEqual([1, 1]);
  expect(split(100, P)).toEqual([1, 100]);
  expect(split(10, P, 4)).toEqual([4, 1]);
  expect(split(3, P, 8)).toEqual([3, 1]); // never more works than pages
  const [works, chunk] = split(2048, P, 2);
  expect(works).toBe(2);
  expect(chunk).toBeLessThanOrEqual(2048 / (2 * 16)); // at least 16 chunks per thread
  expect(split(16384, P, 2)[1]).toBe(32); // at most 128 KiB per chunk
  // Default: a work per pool thread, even past the cores; none split on one core.
  expect(split(2048, P, undefined, { cores: 2, poolSize: 4 })[0]).toBe(4);
  expect(split(2048, P, undefined, { cores: 64, poolSize: 4 })[0]).toBe(4);
  expect(split(2048, P, undefined, { cores: 2, poolSize: 8 })[0]).toBe(8);
  expect(split(2048, P, undefined, { cores: 1, poolSize: 4 })).toEqual([1, 2048]);
  expect(split(256, P, undefined, { cores: 2, poolSize: 4 })[0]).toBe(2); // 512 KiB per work
});

eachKernel((name) => {
  describe('async equals sync', () => {
    test.each([0, 1, 2, 7, 33, 301])('encodePagesAsync, %i pages, every split', async (count) => {
      const b = randomBatch(rng(300 + count), count);
      const want = encodePages(b.oldPages, b.newPages);
      for (const threads of [undefined, 1, 2, 3, 4, 64]) {
        same(await encodePagesAsync(b.oldPages, b.newPages, { threads }), want);
      }
    });

    test('a large batch on the default split, into a reused out', async () => {
      const b = randomBatch(rng(301), 2048);
      const want = encodePages(b.oldPages, b.newPages);
      const out = Buffer.alloc(2048 * P);
      const offsets = new Uint32Array(2048);
      const lengths = new Int32Array(2048);
      for (let round = 0; round < 2; round++) {
        const r = await encodePagesAsync(b.oldPages, b.newPages, { out, offsets, lengths });
        expect(r.lengths).toBe(lengths);
        expect(r.data.buffer).toBe(out.buffer);
        same(r, want);
      }
    });

    test('limits and small pages', async () => {
      const b = randomBatch(rng(302), 500, 100);
      for (const limit of [0, 3, 40, 100]) {
        const want = encodePages(b.oldPages, b.newPages, { pageSize: 100, limit });
        same(await encodePagesAsync(b.oldPages, b.newPages, { pageSize: 100, limit, threads: 4 }), want);
      }
    });

    test('scatter-gather', async () => {
      const rand = rng(303);
      const memory = randomBatch(rand, 256).newPages;
      const indexes = new Uint32Array(100).map(() => Math.floor(rand() * 256));
      const oldIndexes = new Uint32Array(100).map((_, k) => 99 - k);
      const store = Buffer.from(memory.subarray(0, 100 * P));
      const want = encodePages(store, memory, { indexes, oldIndexes });
      same(await encodePagesAsync(store, memory, { indexes, oldIndexes, threads: 3 }), want);
    });

    test('decodePagesAsync, every split', async () => {
      const b = randomBatch(rng(304), 301);
      const r = encodePages(b.oldPages, b.newPages);
      const want = Buffer.from(b.oldPages);
      decodePages(r.data, r.offsets, r.lengths, want);
      for (const threads of [undefined, 1, 2, 4]) {
        const pages = Buffer.from(b.oldPages);
        await decodePagesAsync(r.data, r.offsets, r.lengths, pages, { threads });
        expect(pages.equals(want)).toBe(true);
      }
    });

    test('decodePagesAsync rejects with the same error, every rejection listed, valid pages applied', async () => {
      // 1024 pages of 64 bytes (chunks of 64 pages on 2 threads); every third
      // delta is malformed, so each chunk has more than it keeps inline.
      const count = 1024;
      const size = 64;
      const good = Buffer.from([0x03, 0x02, 0x07, 0x07]);
      const bad = Buffer.from([0x00, 0x01, 0x07, 0x00, 0x01, 0x07]); // empty-zero-run at 3
      const deltas = Buffer.concat([good, bad]);
      const offsets = new Uint32Array(count).map((_, k) => (k % 3 === 1 ? 4 : 0));
      const lengths = new Int32Array(count).map((_, k) => (k % 3 === 1 ? 6 : k % 7 === 0 ? 0 : 4));
      const syncPages = Buffer.alloc(count * size);
      let syncErr: XbzrleError | undefined;
      try {
        decodePages(deltas, offsets, lengths, syncPages, { pageSize: size });
      } catch (e) {
        syncErr = e as XbzrleError;
      }
      expect(syncErr!.errors!.length).toBe(Math.floor((count + 1) / 3));
      for (const threads of [1, 2, 4]) {
        const pages = Buffer.alloc(count * size);
        const e = (await rejection(
          decodePagesAsync(deltas, offsets, lengths, pages, { pageSize: size, threads }),
        )) as XbzrleError;
        expect(e).toBeInstanceOf(XbzrleError);
        expect(e.message).toBe(syncErr!.message);
        expect(e.errors!.map((x) => [x.page, x.reason, x.offset])).toEqual(
          syncErr!.errors!.map((x) => [x.page, x.reason, x.offset]),
        );
        expect(pages.equals(syncPages)).toBe(true);
      }
    });

    test('a page named twice gets its deltas in order, whatever threads asks for', async () => {
      const count = 2000;
      const indexes = new Uint32Array(count).map((_, k) => k % 1000); // each page twice
      const deltas = Buffer.from([0x00, 0x02, 0x01, 0x01, 0x01, 0x02, 0x02, 0x02]);
      const offsets = new Uint32Array(count).map((_, k) => (k < 1000 ? 0 : 4));
      const lengths = new Int32Array(count).fill(4);
      const pages = Buffer.alloc(1000 * P);
      await decodePagesAsync(deltas, offsets, lengths, pages, { indexes, threads: 4 });
      for (let i = 0; i < 1000; i++) expect([...pages.subarray(i * P, i * P + 4)]).toEqual([1, 2, 2, 0]);
    });
  });

  describe('AbortSignal', () => {
    test('an aborted signal rejects at once and nothing is written', async () => {
      const b = randomBatch(rng(400), 8);
      const out = Buffer.alloc(8 * P, 0x5c);
      const ac = new AbortController();
      const reason = new Error('stop');
      ac.abort(reason);
      const e = (await rejection(encodePagesAsync(b.oldPages, b.newPages, { out, signal: ac.signal }))) as AbortError;
      expect(e).toBeInstanceOf(AbortError);
      expect(e).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', cause: reason });
      expect(out.every((x) => x === 0x5c)).toBe(true);
      const r = encodePages(b.oldPages, b.newPages);
      const pages = Buffer.from(b.oldPages);
      const d = await rejection(decodePagesAsync(r.data, r.offsets, r.lengths, pages, { signal: ac.signal }));
      expect(d).toBeInstanceOf(AbortError);
      expect(pages.equals(b.oldPages)).toBe(true);
    });

    test('a signal that never fires leaves no listener behind', async () => {
      const b = randomBatch(rng(401), 300);
      const ac = new AbortController();
      await encodePagesAsync(b.oldPages, b.newPages, { signal: ac.signal, threads: 2 });
      const r = encodePages(b.oldPages, b.newPages);
      await decodePagesAsync(r.data, r.offsets, r.lengths, Buffer.from(b.oldPages), { signal: ac.signal });
      expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    });

    // The twin finishes before the call returns, so there is nothing to abort mid-way.
    testIf(name !== 'js', 'the twin runs synchronously', { requiredInCi: false })('an abort during the call rejects once the threads let go, and leaks nothing', async () => {
      const b = randomBatch(rng(402), 2048);
      const r = encodePages(b.oldPages, b.newPages);
      for (let round = 0; round < 20; round++) {
        const ac = new AbortController();
        const p = encodePagesAsync(b.oldPages, b.newPages, { signal: ac.signal, threads: 1 + (round % 4) });
        ac.abort();
        expect(await rejection(p)).toBeInstanceOf(AbortError);
        expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
        const ac2 = new AbortController();
        const pages = Buffer.from(b.oldPages);
        const q = decodePagesAsync(r.data, r.offsets, r.lengths, pages, { signal: ac2.signal, threads: 2 });
        ac2.abort();
        expect(await rejection(q)).toBeInstanceOf(AbortError);
        // Each page is either fully decoded or untouched.
        for (let k = 0; k < 2048; k++) {
          const page = pageOf(pages, k, P);
          const ok = page.equals(pageOf(b.oldPages, k, P)) || (r.lengths[k] > 0 && page.equals(pageOf(b.newPages, k, P)));
          if (!ok) throw new Error(`page ${k} is half decoded`);
        }
      }
      expect(addon!.jobCounts()[0]).toBe(0); // no job holds a reference any more
    });
  });

  test('bad async arguments reject with TypeError / RangeError naming them', async () => {
    const two = Buffer.alloc(2 * P);
    await expect(encodePagesAsync(two, two, { signal: {} as never })).rejects.toThrow(
      /"signal" option must be an AbortSignal/,
    );
    await expect(encodePagesAsync(two, two, { threads: 0 })).rejects.toThrow(RangeError);
    await expect(encodePagesAsync(two, two, { threads: 65 })).rejects.toThrow(/"threads" option must be an integer from 1 to 64/);
    await expect(encodePagesAsync(two, 'x' as never)).rejects.toThrow(/"newPages" argument must be a Uint8Array/);
    await expect(
      decodePagesAsync(Buffer.alloc(0), new Uint32Array(2), new Int32Array(2), two, { threads: 1.5 }),
    ).rejects.toThrow(/"threads"/);
    await expect(decodePagesAsync(Buffer.alloc(0), new Uint32Array(1), new Int32Array(2), two)).rejects.toThrow(
      /"offsets" argument must have one entry per page/,
    );
  });
});

// Runs a script with the built package in a child process; returns its JSON.
function child(script: string, env: NodeJS.ProcessEnv = {}, flags: string[] = []): unknown {
  const out = execFileSync(process.execPath, [...flags, '-e', script], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').pop()!);
}

testIfAddon(!!addon)('aborted and finished jobs release every buffer and free every job', () => {
  const result = child(
    `
    const x = require('.');
    const { addon } = require('./dist/backend/binding.js');
    let made = 0, freed = 0;
    const reg = new FinalizationRegistry(() => freed++);
    const turn = () => new Promise((r) => setImmediate(r));
    // The calls run in their own function, so its frame is gone (with the
    // last iteration's locals) when the collection starts.
    async function calls() {
      for (let i = 0; i < 400; i++) {
        const a = Buffer.alloc(256 * 4096), b = Buffer.alloc(256 * 4096), out = Buffer.alloc(256 * 4096);
        b.fill(i & 255, 0, 4096 * (i % 200));
        for (const o of [a, b, out]) reg.register(o, 0), made++;
        const ac = new AbortController();
        const p = x.encodePagesAsync(a, b, { out, signal: ac.signal, threads: 1 + (i % 3) });
        if (i % 2) ac.abort();
        try { const r = await p; if (i % 2 === 0) x.decodePages(r.data, r.offsets, r.lengths, a); }
        catch (e) { if (e.name !== 'AbortError') throw e; }
        const q = x.decodePagesAsync(Buffer.from([0, 1, 1]), new Uint32Array(256), new Int32Array(256).fill(3), a, { signal: ac.signal, threads: 2 });
        await q.catch((e) => { if (e.name !== 'AbortError') throw e; });
      }
    }
    (async () => {
      await calls();
      const running = addon.jobCounts()[0];
      for (let k = 0; k < 20 && (freed < made || addon.jobCounts()[1] > 0); k++) { global.gc(); await turn(); }
      console.log(JSON.stringify({ made, freed, running, counts: addon.jobCounts() }));
    })().catch((e) => { console.log(JSON.stringify({ error: String(e) })); });
    `,
    {},
    ['--expose-gc'],
  );
  expect(result).toEqual({ made: 1200, freed: 1200, running: 0, counts: [0, 0] });
});

test('several worker threads run async batches at once', async () => {
  const script = `
    const { parentPort, workerData } = require('node:worker_threads');
    const x = require(workerData.root);
    const rand = ((s) => () => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296))(workerData.seed);
    (async () => {
      const P = 4096, n = 600;
      const a = Buffer.alloc(n * P), b = Buffer.alloc(n * P);
      for (let i = 0; i < a.length; i++) a[i] = b[i] = (rand() * 256) | 0;
      for (let i = 0; i < b.length; i++) if (rand() < 0.02) b[i] ^= 1 + ((rand() * 255) | 0);
      const want = x.encodePages(a, b);
      const got = await Promise.all([1, 2, 3, 4].map((threads) => x.encodePagesAsync(a, b, { threads })));
      let ok = got.every((r) => r.data.equals(want.data) && Buffer.compare(Buffer.from(r.lengths.buffer), Buffer.from(want.lengths.buffer)) === 0);
      const pages = await Promise.all([1, 2].map(async (threads) => {
        const p = Buffer.from(a);
        await x.decodePagesAsync(want.data, want.offsets, want.lengths, p, { threads });
        return p;
      }));
      const sync = Buffer.from(a);
      x.decodePages(want.data, want.offsets, want.lengths, sync);
      ok = ok && pages.every((p) => p.equals(sync));
      parentPort.postMessage({ ok, kernel: x.kernel(), native: x.native });
    })().catch((e) => parentPort.postMessage({ ok: false, error: String(e.stack) }));
  `;
  const runs = [1, 2, 3, 4].map(
    (seed) =>
      new Promise((resolve, reject) => {
        const w = new Worker(script, { eval: true, workerData: { root, seed } });
        w.once('message', (m) => {
          resolve(m);
          void w.terminate();
        });
        w.once('error', reject);
      }),
  );
  // The main thread keeps the pool busy too.
  const b = randomBatch(rng(500), 700);
  const want = encodePages(b.oldPages, b.newPages);
  const mine = await Promise.all([1, 2, 3].map((threads) => encodePagesAsync(b.oldPages, b.newPages, { threads })));
  mine.forEach((r) => same(r, want));
  const results = (await Promise.all(runs)) as { ok: boolean; native: boolean; error?: string }[];
  for (const r of results) expect(r).toMatchObject({ ok: true, native: addon !== null });
});

test('a caller that keeps writing during a call gets whatever was read, and nothing breaks', async () => {
  // Another thread scribbles over the first half of the pages (and over the
  // deltas being decoded) while the pool threads read them.
  const count = 512;
  const half = (count / 2) * P;
  const shared = new SharedArrayBuffer(2 * count * P);
  const oldPages = Buffer.from(shared, 0, count * P);
  const newPages = Buffer.from(shared, count * P, count * P);
  const b = randomBatch(rng(600), count);
  b.oldPages.copy(oldPages);
  b.newPages.copy(newPages);
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const deltaMem = new SharedArrayBuffer(count * P);
  const scribbler = new Worker(
    `
    const { workerData: { shared, deltaMem, stop, half, size } } = require('node:worker_threads');
    const a = new Uint8Array(shared), d = new Uint8Array(deltaMem);
    let s = 1;
    while (Atomics.load(new Int32Array(stop), 0) === 0) {
      for (let i = 0; i < 4096; i++) {
        s = (s * 1103515245 + 12345) >>> 0;
        a[s % half] = s >>> 24;                 // old pages, first half
        a[size + (s >>> 3) % half] = s >>> 16;  // new pages, first half
        d[(s >>> 5) % d.length] = s >>> 8;      // the deltas
      }
    }
    `,
    { eval: true, workerData: { shared, deltaMem, stop: stop.buffer, half, size: count * P } },
  );
  await new Promise((r) => scribbler.once('online', r));
  try {
    for (let round = 0; round < 20; round++) {
      const r = await encodePagesAsync(oldPages, newPages, { threads: 2 });
      unpack(r); // the layout promise holds whatever was read
      // The untouched second half encodes exactly as it would alone.
      const calm = encodePages(b.oldPages.subarray(half), b.newPages.subarray(half));
      for (let k = count / 2; k < count; k++) {
        const n = r.lengths[k];
        expect(n).toBe(calm.lengths[k - count / 2]);
        if (n > 0) {
          const at = calm.offsets[k - count / 2];
          expect(r.data.subarray(r.offsets[k], r.offsets[k] + n).equals(calm.data.subarray(at, at + n))).toBe(true);
        }
      }
      // Decoding deltas that another thread rewrites: applied or rejected,
      // never a crash or a write outside the pages.
      const deltas = Buffer.from(deltaMem, 0, r.data.length);
      r.data.copy(deltas);
      const pages = Buffer.from(b.oldPages);
      const guard = Buffer.concat([Buffer.alloc(P, 0xee), pages, Buffer.alloc(P, 0xee)]);
      const inner = guard.subarray(P, P + count * P);
      try {
        await decodePagesAsync(deltas, r.offsets, r.lengths, inner, { threads: 2 });
      } catch (e) {
        expect(e).toBeInstanceOf(XbzrleError);
      }
      expect(guard.subarray(0, P).every((x) => x === 0xee)).toBe(true);
      expect(guard.subarray(P + count * P).every((x) => x === 0xee)).toBe(true);
    }
  } finally {
    Atomics.store(stop, 0, 1);
    await new Promise((r) => scribbler.once('exit', r));
  }
});

test('with XBZRLE_NO_NATIVE=1 the twin serves the whole batch API', () => {
  const result = child(
    `
    const x = require('.');
    (async () => {
      const P = 4096, a = Buffer.alloc(8 * P), b = Buffer.alloc(8 * P);
      b[5] = 1; b[3 * P + 200] = 2; for (let i = 0; i < P; i += 2) b[6 * P + i] = 3;
      const s = x.encodePages(a, b);
      const r = await x.encodePagesAsync(a, b, { threads: 2 });
      const same = r.data.equals(s.data) && [...r.lengths].join() === [...s.lengths].join();
      const pages = Buffer.from(a);
      await x.decodePagesAsync(r.data, r.offsets, r.lengths, pages);
      const ac = new AbortController(); ac.abort();
      const aborted = await x.encodePagesAsync(a, b, { signal: ac.signal }).catch((e) => e.name);
      const bad = await x.decodePagesAsync(Buffer.from([0]), new Uint32Array(8), new Int32Array(8).fill(1), pages).catch((e) => [e.page, e.reason]);
      console.log(JSON.stringify({ native: x.native, lengths: [...s.lengths], same, decoded: pages.equals(b) === false && pages[5] === 1, aborted, bad }));
    })();
    `,
    { XBZRLE_NO_NATIVE: '1' },
  );
  expect(result).toEqual({
    native: false,
    lengths: [3, 0, 0, 4, 0, 0, -1, 0],
    same: true,
    decoded: true,
    aborted: 'AbortError',
    bad: [0, 'truncated'],
  });
});

// A look-alike signal could throw from its methods or never call back; the
// promise must settle only after the job let go, so only a real AbortSignal
// is taken, and its own properties are never called.
(addon ? describe : describe.skip)('signal: only a real AbortSignal (native job; skipped without the addon)', () => {
  const b = randomBatch(rng(61), 64);
  const within = <T>(p: Promise<T>) =>
    Promise.race([p, new Promise<never>((_r, j) => setTimeout(() => j(new Error('never settled')), 3000))]);
  const fakes: [string, () => unknown][] = [
    ['an object without removeEventListener', () => ({ aborted: false, addEventListener() {} })],
    [
      'an addEventListener that throws',
      () => ({
        aborted: false,
        addEventListener() {
          throw new Error('boom');
        },
        removeEventListener() {},
      }),
    ],
    ['an object inheriting from AbortSignal.prototype', () => Object.create(AbortSignal.prototype)],
  ];
  test.each(fakes)('%s: TypeError naming "signal", no job started', async (_n, make) => {
    const jobs = addon!.jobCounts()[0];
    for (const call of [
      () => encodePagesAsync(b.oldPages, b.newPages, { signal: make() as AbortSignal, threads: 2 }),
      () => decodePagesAsync(Buffer.alloc(0), new Uint32Array(64), new Int32Array(64), Buffer.from(b.oldPages), { signal: make() as AbortSignal }),
    ]) {
      const e = await within(call().then(() => null, (x: unknown) => x));
      expect(e).toBeInstanceOf(TypeError);
      expect((e as Error).message).toMatch(/The "signal" option must be an AbortSignal/);
    }
    expect(addon!.jobCounts()[0]).toBe(jobs);
  });
  test('a real signal whose own methods throw: the result as without them, aborts still work', async () => {
    const want = encodePages(b.oldPages, b.newPages);
    const ac = new AbortController();
    const boom = () => {
      throw new Error('own property called');
    };
    Object.assign(ac.signal, { addEventListener: boom, removeEventListener: boom });
    Object.defineProperty(ac.signal, 'aborted', { get: boom });
    const r = await within(encodePagesAsync(b.oldPages, b.newPages, { signal: ac.signal, threads: 2 }));
    expect(unpack(r)).toEqual(unpack(want));
    const p = encodePagesAsync(b.oldPages, b.newPages, { signal: ac.signal, threads: 2 });
    ac.abort();
    const settled = await within(p.then(() => 'ok', (e: Error) => e.name));
    expect(['ok', 'AbortError']).toContain(settled);
    expect(addon!.jobCounts()[0]).toBe(0);
  });
});
