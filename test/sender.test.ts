// Sender: QEMU's per-page behaviour (docs/FORMAT.md §3) case by case, its
// statistics, the batch form against the per-page form, and against a plain
// model written from docs/FORMAT.md, on the addon and the twin.
import { PageCache, RecordFlag, RecordWriter, SEND_KINDS, Sender, sendPagesCapacity } from '../lib';
import { rng } from '../lib/bench/traces';
import { eachBackend } from './helpers/backends';
import { ModelCache, ModelSender } from './helpers/qemu-model';
import { referenceEncode } from './helpers/reference';

const P = 4096;

function setup(slots = 16, limit?: number): { cache: PageCache; s: Sender } {
  const cache = new PageCache({ size: slots * P });
  return { cache, s: new Sender({ cache, limit }) };
}

function randomPage(rand: () => number): Buffer {
  const p = Buffer.alloc(P);
  for (let i = 0; i < P; i++) p[i] = (rand() * 256) | 0;
  return p;
}

eachBackend((backend) => {
  test('the sender runs where its cache lives', () => {
    const { cache, s } = setup();
    expect(s.native).toBe(backend === 'native');
    cache.close();
  });

  describe('per page, as QEMU', () => {
    test('the first pass sends raw and neither reads nor fills the cache', () => {
      const { cache, s } = setup();
      const p = Buffer.alloc(P, 3);
      cache.insert(0, Buffer.alloc(P, 1), 0);
      const r = s.sendPage(0, p);
      expect(r.kind).toBe('raw');
      expect(r.body!.equals(p)).toBe(true);
      expect(s.sendPage(P, p).kind).toBe('raw');
      expect(cache.get(P)).toBeUndefined();
      expect(cache.get(0)!.equals(Buffer.alloc(P, 1))).toBe(true); // not read, not refreshed
      expect(cache.stats.lookups).toBe(0);
      expect(s.stats).toMatchObject({ cacheMiss: 0, pages: 0, bytes: 0, rawPages: 2, generation: 0 });
      cache.close();
    });

    test('a miss counts, caches the page and sends it raw; a hit on an unchanged page sends nothing', () => {
      const { cache, s } = setup();
      s.nextGeneration();
      const p = Buffer.alloc(P, 3);
      const r = s.sendPage(0, p);
      expect(r.kind).toBe('raw');
      expect(r.body!.equals(p)).toBe(true);
      expect(cache.get(0)!.equals(p)).toBe(true);
      expect(s.sendPage(0, p)).toEqual({ kind: 'skip' });
      expect(s.stats).toMatchObject({ cacheMiss: 1, pages: 1, bytes: 0, overflow: 0, skippedPages: 1 });
      cache.close();
    });

    test('a hit on a changed page sends the record body of its delta and updates the cache', () => {
      const { cache, s } = setup();
      s.nextGeneration();
      const p = Buffer.alloc(P, 3);
      s.sendPage(8 * P, p);
      const q = Buffer.from(p);
      q[100] = 9;
      q[4095] = 1;
      const r = s.sendPage(8 * P, q);
      const delta = referenceEncode(p, q);
      expect(r.kind).toBe('xbzrle');
      expect([...r.body!.subarray(0, 3)]).toEqual([0x01, delta.length >> 8, delta.length & 0xff]);
      expect(r.body!.subarray(3).equals(delta)).toBe(true);
      expect(cache.get(8 * P)!.equals(q)).toBe(true);
      expect(s.stats).toMatchObject({ pages: 1, bytes: delta.length + 3, xbzrlePages: 1 });
      cache.close();
    });

    test('an overflow sends the snapshot raw, counts P bytes and updates the cache', () => {
      const { cache, s } = setup();
      s.nextGeneration();
      const rand = rng(1);
      const p = randomPage(rand);
      s.sendPage(0, p);
      const q = Buffer.from(p);
      for (let i = 0; i < P; i += 2) q[i] ^= 0xff; // every other byte: the delta is longer than P
      const r = s.sendPage(0, q);
      expect(r.kind).toBe('raw');
      expect(r.body!.equals(q)).toBe(true);
      q[0] ^= 1; // the body is a copy taken when the page was sent
      expect(r.body!.equals(q)).toBe(false);
      expect(cache.get(0)![0]).toBe(r.body![0]);
      expect(s.stats).toMatchObject({ pages: 1, overflow: 1, bytes: P, rawPages: 2 });
      cache.close();
    });

    test('the limit option lowers the overflow threshold', () => {
      const { cache, s } = setup(16, 5);
      s.nextGeneration();
      const p = Buffer.alloc(P);
      p[0] = 1;
      s.sendPage(0, Buffer.alloc(P));
      expect(s.sendPage(0, p).kind).toBe('xbzrle'); // 00 01 01: 3 bytes <= 5
      const q = Buffer.from(p);
      q[10] = 1;
      q[20] = 1; // 00 01 01 09 01 01 09 01 01: 9 bytes > 5
      expect(s.sendPage(0, q).kind).toBe('raw');
      expect(s.stats.overflow).toBe(1);
      cache.close();
    });

    test('a refused insert sends raw and leaves the young page in its slot', () => {
      const { cache, s } = setup(4);
      s.nextGeneration();
      s.sendPage(0, Buffer.alloc(P, 1));
      expect(s.sendPage(4 * P, Buffer.alloc(P, 2)).kind).toBe('raw');
      expect(cache.get(4 * P)).toBeUndefined();
      expect(cache.get(0)!.equals(Buffer.alloc(P, 1))).toBe(true);
      expect(s.stats.cacheMiss).toBe(2);
      expect(cache.stats.refused).toBe(1);
      cache.close();
    });

    test('the last stage neither fills nor updates the cache', () => {
      const { cache, s } = setup();
      s.nextGeneration();
      const p = Buffer.alloc(P, 1);
      s.sendPage(0, p);
      const q = Buffer.from(p);
      q[7] = 7;
      expect(s.sendPage(P, p, { lastStage: true }).kind).toBe('raw'); // a miss
      expect(cache.get(P)).toBeUndefined();
      expect(s.sendPage(0, q, { lastStage: true }).kind).toBe('xbzrle');
      expect(cache.get(0)!.equals(p)).toBe(true);
      const full = Buffer.alloc(P, 0xee);
      expect(s.sendPage(0, full, { lastStage: true }).kind).toBe('raw'); // an overflow
      expect(cache.get(0)!.equals(p)).toBe(true);
      expect(s.stats).toMatchObject({ cacheMiss: 2, pages: 2, overflow: 1 });
      cache.close();
    });

    test('zero pages: not cached in the first pass, cached as zeros after', () => {
      const { cache, s } = setup();
      s.zeroPage(0);
      expect(cache.get(0)).toBeUndefined();
      s.nextGeneration();
      s.sendPage(P, Buffer.alloc(P, 5)); // a stale copy of P ...
      s.zeroPage(P); // ... replaced by zeros
      expect(cache.get(P)!.equals(Buffer.alloc(P))).toBe(true);
      const small = Buffer.alloc(P);
      small[10] = 1;
      const r = s.sendPage(P, small);
      expect(r.kind).toBe('xbzrle');
      expect([...r.body!]).toEqual([1, 0, 3, 10, 1, 1]);
      cache.close();
    });

    test('detectZero sends an all-zero page as a ZERO record, before any cache step', () => {
      const { cache, s } = setup();
      expect(s.sendPage(0, Buffer.alloc(P), { detectZero: true })).toEqual({ kind: 'zero', body: Buffer.from([0]) });
      expect(cache.get(0)).toBeUndefined();
      s.nextGeneration();
      expect(s.sendPage(0, Buffer.alloc(P), { detectZero: true }).kind).toBe('zero');
      expect(cache.get(0)!.equals(Buffer.alloc(P))).toBe(true);
      expect(s.sendPage(0, Buffer.alloc(P)).kind).toBe('skip'); // without detection: a hit
      expect(s.stats).toMatchObject({ zeroPages: 2, cacheMiss: 0, pages: 1 });
      cache.close();
    });
  });

  describe('statistics', () => {
    test('rates cover the last period: misses / pages handled, hits x P / bytes', () => {
      const { cache, s } = setup();
      const p = Buffer.alloc(P, 1);
      for (let i = 0; i < 4; i++) s.sendPage(i * P, p);
      s.nextGeneration(); // period 1: the raw pass
      expect(s.stats).toMatchObject({ cacheMissRate: 0, encodingRate: 0 });
      for (let i = 0; i < 4; i++) s.sendPage(i * P, p); // 4 misses
      s.zeroPage(9 * P);
      s.nextGeneration();
      expect(s.stats.cacheMissRate).toBe(1); // 4 misses of 4 pages (zeroPage is not a page sent here)
      expect(s.stats.encodingRate).toBe(0); // no hits, no bytes
      const q = Buffer.from(p);
      q[0] = 2;
      s.sendPage(0, q); // a record: 00 01 02 -> 6 bytes
      s.sendPage(P, p); // skip
      s.sendPage(5 * P, p); // miss
      s.nextGeneration();
      expect(s.stats.cacheMissRate).toBeCloseTo(1 / 3);
      expect(s.stats.encodingRate).toBe((2 * P) / 6);
      expect(s.stats.generation).toBe(3);
      // Hits that send nothing: pages without bytes give rate 0.
      s.sendPage(P, p);
      s.nextGeneration();
      expect(s.stats).toMatchObject({ cacheMissRate: 0, encodingRate: 0 });
      expect(s.statsQmp()).toEqual({
        'cache-size': 16 * P,
        bytes: 6,
        pages: 3,
        'cache-miss': 5,
        'cache-miss-rate': 0,
        'encoding-rate': 0,
        overflow: 0,
      });
      cache.resize(32 * P);
      expect(s.stats.cacheSize).toBe(32 * P);
      cache.close();
    });
  });

  test('matches the plain model of docs/FORMAT.md on a random workload, page by page', () => {
    const rand = rng(7);
    const slots = 32;
    const { cache, s } = setup(slots, 3000);
    const model = new ModelSender(new ModelCache(P, slots), 3000);
    const mem = Array.from({ length: 96 }, () => randomPage(rand));
    for (let pass = 0; pass < 6; pass++) {
      for (let i = 0; i < 96; i++) {
        const r = rand();
        const pg = mem[i];
        if (r < 0.1) pg.fill(0);
        else if (r < 0.2) for (let k = 0; k < P; k += 2) pg[k] = (rand() * 256) | 0;
        else if (r < 0.6) for (let k = 0; k < 1 + rand() * 40; k++) pg[(rand() * P) | 0] ^= 1 + ((rand() * 255) | 0);
      }
      const order = Array.from({ length: 96 }, (_, i) => i).filter(() => rand() < 0.7);
      const last = pass === 5;
      for (const i of order) {
        const dz = rand() < 0.5;
        const want = model.sendPage(i * P, mem[i], last, dz);
        const got = s.sendPage(i * P, mem[i], { lastStage: last, detectZero: dz });
        // Buffer.equals: jest's deep equality is slow on 4 KiB buffers.
        if (got.kind !== want.kind || !(got.body ?? Buffer.alloc(0)).equals(want.body ?? Buffer.alloc(0))) {
          expect({ pass, i, kind: got.kind }).toEqual({ pass, i, kind: want.kind });
          expect(got.body?.toString('hex')).toBe(want.body?.toString('hex'));
        }
      }
      const m = model;
      expect(s.stats).toMatchObject({
        bytes: m.bytes,
        pages: m.pages,
        cacheMiss: m.cacheMiss,
        overflow: m.overflow,
        cacheMissRate: m.missRate,
        encodingRate: m.encodingRate,
      });
      const differ = [];
      for (let i = 0; i < 96; i++) {
        const a = cache.get(i * P);
        const b = model.cache.get(i * P);
        if (!a !== !b || (a && b && !a.equals(b))) differ.push(i);
      }
      expect(differ).toEqual([]);
      if (!last) {
        s.nextGeneration();
        model.nextGeneration();
      }
    }
    cache.close();
  });

  describe('sendPages', () => {
    function workload(seed: number, n: number): { mem: Buffer; steps: ((m: Buffer) => void)[] } {
      const rand = rng(seed);
      const mem = Buffer.alloc(n * P);
      for (let i = 0; i < mem.length; i += 64) mem[i] = (rand() * 256) | 0;
      mem.fill(0, 5 * P, 9 * P);
      const steps = [0, 1, 2, 3].map(() => (m: Buffer) => {
        for (let k = 0; k < 200; k++) m[(rand() * m.length) | 0] = (rand() * 256) | 0;
        const full = ((rand() * n) | 0) * P;
        for (let k = 0; k < P; k++) m[full + k] = (rand() * 256) | 0;
        m.fill(0, 12 * P, 13 * P);
      });
      return { mem, steps };
    }

    test('one batch call equals the per-page calls framed by RecordWriter, byte for byte', () => {
      const n = 48;
      const { mem, steps } = workload(3, n);
      const a = setup(16);
      const b = setup(16);
      const w = new RecordWriter();
      const out = Buffer.alloc(sendPagesCapacity(n, P, 'pc.ram'.length));
      const batchStream: Buffer[] = [];
      const addrs = Array.from({ length: n }, (_, i) => i * P);
      for (let pass = 0; pass < 5; pass++) {
        const lastStage = pass === 4;
        for (let i = 0; i < n; i++) {
          const r = a.s.sendPage(i * P, mem.subarray(i * P, (i + 1) * P), { lastStage, detectZero: true });
          if (r.kind === 'raw') w.page(i * P, 'pc.ram', r.body!);
          else if (r.kind === 'zero') w.zero(i * P, 'pc.ram');
          else if (r.kind === 'xbzrle') w.xbzrle(i * P, 'pc.ram', r.body!);
        }
        const res = b.s.sendPages(addrs, mem, { lastStage, detectZero: true, out, continued: pass > 0 });
        expect(res.data.buffer).toBe(out.buffer); // written in place
        batchStream.push(Buffer.from(res.data));
        // The table describes the records.
        let pos = 0;
        for (let i = 0; i < n; i++) {
          expect(res.offsets[i]).toBe(pos);
          pos += res.lengths[i];
          if (res.kinds[i] === 0) expect(res.lengths[i]).toBe(0);
        }
        expect(pos).toBe(res.data.length);
        if (pass < 4) {
          a.s.nextGeneration();
          b.s.nextGeneration();
          steps[pass](mem);
        }
      }
      expect(Buffer.concat(batchStream).equals(w.take())).toBe(true);
      expect(b.s.stats).toEqual(a.s.stats);
      a.cache.close();
      b.cache.close();
    });

    test('records carry header flags, the block name once, then CONTINUE', () => {
      const { cache, s } = setup(16);
      s.nextGeneration();
      const pages = Buffer.alloc(3 * P, 1);
      pages.fill(0, P, 2 * P);
      s.sendPages([0, P, 2 * P], pages); // fill the cache
      pages[5] = 2; // page 0 changes; page 1 stays zero; page 2 is unchanged
      const r = s.sendPages([0n, BigInt(P), BigInt(2 * P)], pages, { block: 'ram1', detectZero: true });
      expect([...r.kinds].map((k) => SEND_KINDS[k])).toEqual(['xbzrle', 'zero', 'skip']);
      const d = r.data;
      expect(d.readBigUInt64BE(0)).toBe(BigInt(RecordFlag.XBZRLE));
      expect(d[8]).toBe(4);
      expect(d.toString('latin1', 9, 13)).toBe('ram1');
      expect([...d.subarray(13, r.lengths[0])]).toEqual([1, 0, 3, 5, 1, 2]);
      const z = r.offsets[1];
      expect(d.readBigUInt64BE(z)).toBe(BigInt(P | RecordFlag.ZERO | RecordFlag.CONTINUE));
      expect(d[z + 8]).toBe(0);
      expect(r.lengths[1]).toBe(9);
      expect(r.lengths[2]).toBe(0);
      cache.close();
    });

    test('pages as an array, addresses as typed arrays, a caller-given out', () => {
      const { cache, s } = setup(16);
      s.nextGeneration();
      const list = [Buffer.alloc(P, 1), Buffer.alloc(P, 2)];
      const out = new Uint8Array(sendPagesCapacity(2, P, 6) + 10);
      const r = s.sendPages(new Float64Array([0, 17 * P]), list, { out });
      expect(r.data.buffer).toBe(out.buffer);
      expect([...r.kinds]).toEqual([1, 1]);
      const r2 = s.sendPages(new BigUint64Array([0n, 17n * 4096n]), list, { out });
      expect([...r2.kinds]).toEqual([0, 0]);
      const big = s.sendPages([0xffff_ffff_ffff_fc00n], [list[0]]);
      expect(big.data.readBigUInt64BE(0)).toBe(0xffff_ffff_ffff_fc00n | BigInt(RecordFlag.PAGE));
      cache.close();
    });

    test('sendPagesFrom reads each page at its address in a memory image, as sendPages would', () => {
      const n = 32;
      const { mem, steps } = workload(5, n);
      const a = setup(16);
      const b = setup(16);
      const addrs = [3, 1, 30, 7, 8, 12, 0, 31].map((i) => i * P);
      for (let pass = 0; pass < 4; pass++) {
        const list = addrs.map((ad) => mem.subarray(ad, ad + P));
        const r1 = a.s.sendPages(addrs, list, { detectZero: true });
        const r2 = b.s.sendPagesFrom(mem, addrs, { detectZero: true });
        expect(r2.data.equals(r1.data)).toBe(true);
        expect([...r2.kinds]).toEqual([...r1.kinds]);
        a.s.nextGeneration();
        b.s.nextGeneration();
        steps[pass](mem);
      }
      expect(() => b.s.sendPagesFrom(mem, [n * P])).toThrow(/"addrs\[0\]".*inside the 131072-byte memory/);
      expect(() => b.s.sendPagesFrom(mem, [0, (n - 1) * P + 1024])).toThrow(/"addrs\[1\]"/);
      expect(() => b.s.sendPagesFrom(Buffer.alloc(0), [0])).toThrow(/"addrs\[0\]"/);
      expect(() => b.s.sendPagesFrom('x' as never, [0])).toThrow(/"memory"/);
      a.cache.close();
      b.cache.close();
    });

    test('an empty batch writes nothing', () => {
      const { cache, s } = setup(16);
      const r = s.sendPages([], Buffer.alloc(0));
      expect(r.data.length).toBe(0);
      expect(r.kinds.length).toBe(0);
      cache.close();
    });

    test('bad batches throw before any page is handled', () => {
      const { cache, s } = setup(16);
      const two = Buffer.alloc(2 * P);
      expect(() => s.sendPages([0, 100], two)).toThrow(/"addrs\[1\]".*multiple of 1024/);
      expect(() => s.sendPages(new Float64Array([0, 0.5]), two)).toThrow(/"addrs\[1\]"/);
      expect(() => s.sendPages(new Float64Array([0, -1024]), two)).toThrow(RangeError);
      expect(() => s.sendPages([0, 'x'] as never, two)).toThrow(TypeError);
      expect(() => s.sendPages([0, P], Buffer.alloc(P))).toThrow(/"pages".*8192/);
      expect(() => s.sendPages([0, P], [two.subarray(0, P)])).toThrow(/"pages" argument must hold 2/);
      expect(() => s.sendPages([0], [Buffer.alloc(10)])).toThrow(/"pages\[0\]"/);
      expect(() => s.sendPages([0, P], two, { out: Buffer.alloc(100) })).toThrow(/"out".*at least/);
      expect(() => s.sendPages([0, P], two, { block: '' })).toThrow(/"block"/);
      expect(() => s.sendPages([0, P], two, { block: 'x'.repeat(256) })).toThrow(/"block"/);
      expect(() => s.sendPages([0, P], two, { lastStage: 1 as never })).toThrow(/"lastStage".*boolean/);
      expect(() => s.sendPages('0' as never, two)).toThrow(TypeError);
      expect(s.stats).toMatchObject({ rawPages: 0, cacheMiss: 0 });
      expect(cache.stats.lookups).toBe(0);
      cache.close();
    });
  });

  describe('errors', () => {
    test('a closed cache makes the sender throw ERR_XBZRLE_CLOSED', () => {
      const { cache, s } = setup(16);
      cache.close();
      expect(() => s.sendPage(0, Buffer.alloc(P))).toThrow(expect.objectContaining({ code: 'ERR_XBZRLE_CLOSED' }));
      expect(() => s.sendPages([0], Buffer.alloc(P))).toThrow(/closed/);
      expect(() => s.zeroPage(0)).toThrow(/closed/);
      expect(() => new Sender({ cache })).toThrow(/closed/);
      expect(s.stats.cacheSize).toBe(16 * P); // stats stay readable
    });

    type Case = [string, () => unknown, ErrorConstructor, RegExp];
    const cache = (): PageCache => new PageCache({ size: 4 * P });
    const cases: Case[] = [
      ['no options', () => new Sender(undefined as never), TypeError, /"options"/],
      ['no cache', () => new Sender({} as never), TypeError, /"cache"/],
      ['pageSize differs from the cache', () => new Sender({ cache: cache(), pageSize: 8192 }), RangeError, /"pageSize"/],
      ['limit over the page', () => new Sender({ cache: cache(), limit: P + 1 }), RangeError, /"limit"/],
      ['limit negative', () => new Sender({ cache: cache(), limit: -1 }), RangeError, /"limit"/],
      ['sendPage: page too short', () => new Sender({ cache: cache() }).sendPage(0, Buffer.alloc(10)), RangeError, /"page".*4096/],
      ['sendPage: page not bytes', () => new Sender({ cache: cache() }).sendPage(0, 'x' as never), TypeError, /"page"/],
      ['sendPage: addr negative', () => new Sender({ cache: cache() }).sendPage(-1, Buffer.alloc(P)), RangeError, /"addr"/],
      ['sendPage: options a string', () => new Sender({ cache: cache() }).sendPage(0, Buffer.alloc(P), 'x' as never), TypeError, /"options"/],
    ];
    test.each(cases)('%s', (_n, call, cls, message) => {
      expect(call).toThrow(cls);
      expect(call).toThrow(message);
    });
  });
});
