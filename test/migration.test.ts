// A simulated live migration, end to end: 64 MiB of source memory with a
// dirtying workload (a hot set, sparse counters, runs, full rewrites, pages
// rewritten unchanged, zero pages), a first raw pass, XBZRLE passes and a
// last stage through Sender.sendPages -> RecordWriter (the byte stream) ->
// RecordReader in odd-sized chunks -> Receiver. The destination must equal
// the source byte for byte, and the statistics must agree with the bytes
// actually produced. On the addon and the twin, which must produce the very
// same stream.
import { createHash } from 'node:crypto';
import {
  MemoryBudget,
  PageCache,
  Receiver,
  RecordReader,
  RecordWriter,
  Sender,
  native,
  sendPagesCapacity,
  type RamRecord,
} from '../lib';
import { eachBackend } from './helpers/backends';

const P = 4096;
const PAGES = 16384; // 64 MiB
const BATCH = 256;
const CHUNK = 65521; // a prime: records straddle chunks everywhere
const BLOCK = 'pc.ram';

/**
 * The guest: fills memory and dirties it pass after pass. Random bytes come
 * from a pool made once (copies are fast, and the same seed gives the same
 * workload to both backends).
 */
class Guest {
  readonly mem = Buffer.alloc(PAGES * P);
  private readonly pool = Buffer.alloc(1 << 22);
  private x: number;
  private readonly hot: number[];
  private readonly counters: number[];

  constructor(seed: number) {
    this.x = seed >>> 0 || 1;
    const words = new Uint32Array(this.pool.buffer, this.pool.byteOffset, this.pool.length / 4);
    for (let i = 0; i < words.length; i++) words[i] = this.next();
    for (let p = 0; p < PAGES; p++) this.pool.copy(this.mem, p * P, (p * 4099) % (this.pool.length - P), (p * 4099) % (this.pool.length - P) + P);
    for (let p = 0; p < PAGES; p += 10) this.page(p).fill(0); // 10% zero pages
    const pick = (n: number): number[] => Array.from({ length: n }, () => this.below(PAGES));
    this.hot = pick(1024);
    this.counters = pick(2048);
  }

  /** xorshift32 */
  private next(): number {
    let x = this.x;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (this.x = x >>> 0);
  }

  private below(n: number): number {
    return this.next() % n;
  }

  /** n random bytes (a view of the pool). */
  private bytes(n: number): Buffer {
    const at = this.below(this.pool.length - n);
    return this.pool.subarray(at, at + n);
  }

  page(i: number): Buffer {
    return this.mem.subarray(i * P, (i + 1) * P);
  }

  /** One pass of guest activity; returns the dirty pages in address order. */
  dirty(): number[] {
    const d = new Set<number>();
    for (const p of this.hot) {
      const pg = this.page(p);
      for (let k = 0; k < 16; k++) pg[this.below(P)] = this.next() & 0xff;
      d.add(p);
    }
    for (const p of this.counters) {
      const at = ((p * 8 * 37) % (P - 8)) & ~7;
      const pg = this.page(p);
      pg.writeBigUInt64LE(pg.readBigUInt64LE(at) + 1n, at);
      d.add(p);
    }
    for (let k = 0; k < 256; k++) {
      const p = this.below(PAGES);
      this.bytes(300).copy(this.page(p), this.below(P - 300));
      d.add(p);
    }
    for (let k = 0; k < 128; k++) {
      const p = this.below(PAGES);
      this.bytes(P).copy(this.page(p));
      d.add(p);
    }
    for (let k = 0; k < 64; k++) d.add(this.below(PAGES)); // rewritten with the same bytes
    for (let k = 0; k < 64; k++) {
      const p = this.below(PAGES);
      this.page(p).fill(0);
      d.add(p);
    }
    for (let k = 0; k < 64; k++) {
      const p = this.below(Math.ceil(PAGES / 10)) * 10; // a zero page gets a small write
      this.page(p)[this.below(P)] = 1 + (this.next() % 255);
      d.add(p);
    }
    return [...d].sort((a, b) => a - b);
  }
}

interface Tally {
  kinds: number[]; // skip, raw, xbzrle, zero
  handled: number;
}

const digests: Record<string, string> = {};

eachBackend((backend) => {
  test('the destination equals the source and the statistics match the stream', () => {
    const guest = new Guest(42);
    const dst = Buffer.alloc(PAGES * P);
    const budget = new MemoryBudget(8 << 20); // less than the cache: some inserts are refused
    const cache = new PageCache({ size: 16 << 20, budget });
    const sender = new Sender({ cache });
    const writer = new RecordWriter();
    const reader = new RecordReader();
    const receiver = new Receiver();
    const hash = createHash('sha256');
    const out = Buffer.alloc(sendPagesCapacity(BATCH, P, BLOCK.length));

    // What the stream carried, per period (a period ends at nextGeneration).
    let xbzrleRecords = 0;
    let xbzrleBytes = 0;
    let periodXbzrleBytes = 0;
    const types: Record<string, number> = {};
    const apply = (recs: RamRecord[]): void => {
      for (const rec of recs) {
        types[rec.type] = (types[rec.type] ?? 0) + 1;
        if (rec.type === 'xbzrle') {
          xbzrleRecords++;
          xbzrleBytes += rec.body!.length;
          periodXbzrleBytes += rec.body!.length;
        }
        receiver.receive(dst, rec);
      }
    };
    const feed = (bytes: Buffer): void => {
      hash.update(bytes);
      for (let i = 0; i < bytes.length; i += CHUNK) apply(reader.push(bytes.subarray(i, i + CHUNK)));
    };

    // Odd batches read the pages from the memory image, even ones from a list of views.
    const sendPass = (pages: number[], lastStage: boolean, t: Tally): void => {
      for (let k = 0; k < pages.length; k += BATCH) {
        const idx = pages.slice(k, k + BATCH);
        const addrs = idx.map((i) => i * P);
        const options = { detectZero: true, lastStage, continued: writer.continues(BLOCK), out, block: BLOCK };
        const r =
          (k / BATCH) % 2
            ? sender.sendPagesFrom(guest.mem, addrs, options)
            : sender.sendPages(
                addrs,
                idx.map((i) => guest.page(i)),
                options,
              );
        for (const kind of r.kinds) t.kinds[kind]++;
        t.handled += idx.length;
        writer.framed(r.data, BLOCK);
        feed(writer.take());
        expect(budget.used).toBeLessThanOrEqual(budget.size);
        expect(cache.memoryUsage.pages).toBeLessThanOrEqual(cache.size);
      }
    };

    writer.memSize([{ name: BLOCK, length: PAGES * P }]);
    const first: Tally = { kinds: [0, 0, 0, 0], handled: 0 };
    sendPass(
      Array.from({ length: PAGES }, (_, i) => i),
      false,
      first,
    );
    const zeroPages = Math.ceil(PAGES / 10);
    expect(first.kinds).toEqual([0, PAGES - zeroPages, 0, zeroPages]); // raw or zero, nothing cached
    expect(cache.stats.lookups).toBe(0);
    sender.nextGeneration();
    periodXbzrleBytes = 0;

    const all: Tally = { kinds: [0, 0, 0, 0], handled: 0 };
    for (let pass = 1; pass <= 6; pass++) {
      const last = pass === 6;
      const before = sender.stats;
      const t: Tally = { kinds: [0, 0, 0, 0], handled: 0 };
      sendPass(guest.dirty(), last, t);
      for (let k = 0; k < 4; k++) all.kinds[k] += t.kinds[k];
      all.handled += t.handled;
      const now = sender.stats;
      const misses = now.cacheMiss - before.cacheMiss;
      const hits = now.pages - before.pages;
      const overflows = now.overflow - before.overflow;
      // Every non-zero page is a miss or a hit; a hit is a record, a skip or an overflow.
      expect(misses + hits).toBe(t.handled - t.kinds[3]);
      expect(hits).toBe(t.kinds[0] + t.kinds[2] + overflows);
      expect(t.kinds[1]).toBe(misses + overflows);
      // bytes: delta + 3 per record (the body as read back), P per overflow.
      expect(now.bytes - before.bytes).toBe(periodXbzrleBytes + P * overflows);
      if (!last) {
        sender.nextGeneration();
        const s = sender.stats;
        expect(s.cacheMissRate).toBeCloseTo(misses / t.handled, 12);
        const bytes = periodXbzrleBytes + P * overflows;
        expect(s.encodingRate).toBeCloseTo(hits && bytes ? (hits * P) / bytes : 0, 12);
        periodXbzrleBytes = 0;
      }
    }
    writer.eos();
    feed(writer.take());
    reader.end();

    expect(dst.equals(guest.mem)).toBe(true);
    const s = sender.stats;
    expect(s.xbzrlePages).toBe(xbzrleRecords);
    expect(s.bytes).toBe(xbzrleBytes + P * s.overflow);
    expect(s.pages).toBe(all.kinds[0] + all.kinds[2] + s.overflow);
    expect(s.cacheMiss + s.pages).toBe(all.handled - all.kinds[3]);
    expect(types).toEqual({
      'mem-size': 1,
      page: first.kinds[1] + all.kinds[1],
      zero: first.kinds[3] + all.kinds[3],
      xbzrle: xbzrleRecords,
      eos: 1,
    });
    // The workload exercised every path.
    expect(s.overflow).toBeGreaterThan(0);
    expect(s.skippedPages).toBeGreaterThan(0);
    expect(s.cacheMiss).toBeGreaterThan(0);
    expect(cache.stats.refusedBudget).toBeGreaterThan(0);
    expect(cache.stats.refused).toBeGreaterThan(0);
    expect(s.encodingRate).toBeGreaterThan(1);
    expect(sender.statsQmp()).toEqual({
      'cache-size': s.cacheSize,
      bytes: s.bytes,
      pages: s.pages,
      'cache-miss': s.cacheMiss,
      'cache-miss-rate': s.cacheMissRate,
      'encoding-rate': s.encodingRate,
      overflow: s.overflow,
    });
    cache.close();
    expect(budget.used).toBe(0);
    digests[backend] = hash.digest('hex');
  });
});

(native ? test : test.skip)('the addon and the twin produce the same stream (needs the addon)', () => {
  expect(digests.native).toMatch(/^[0-9a-f]{64}$/);
  expect(digests.twin).toBe(digests.native);
});
