// MemoryBudget: one byte budget shared by several caches. It is never
// exceeded; an insert it cannot fund is refused and counted; resize, clear
// and close give memory back. On the addon and the twin.
import { MemoryBudget, PageCache, Sender, kernel, kernels, native, useKernel } from '../lib';
import { rng } from '../lib/bench/traces';
import { eachBackend } from './helpers/backends';

const P = 4096;
const page = (fill: number): Buffer => Buffer.alloc(P, fill);

eachBackend(() => {
  test('a new budget is empty', () => {
    const b = new MemoryBudget(10 * P);
    expect(b.size).toBe(10 * P);
    expect(b.used).toBe(0);
    expect(b.available).toBe(10 * P);
  });

  test('an exhausted budget refuses inserts and counts them; existing pages still work', () => {
    const b = new MemoryBudget(3 * P);
    const c = new PageCache({ size: 16 * P, budget: b });
    const stored = Array.from({ length: 16 }, (_, i) => c.insert(i * P, page(i), 1));
    expect(stored.filter(Boolean)).toHaveLength(3);
    expect(b.used).toBe(3 * P);
    expect(c.stats).toMatchObject({ pages: 3, refusedBudget: 13, refused: 0 });
    expect(c.memoryUsage.pages).toBe(3 * P);
    // Slots that have memory keep working: overwrite and replace.
    expect(c.insert(0, page(50), 1)).toBe(true);
    expect(c.insert(16 * P, page(51), 3)).toBe(true); // replaces 0*P in its slot, no new memory
    expect(b.used).toBe(3 * P);
    c.close();
  });

  test('a zero budget funds nothing and the cache still answers', () => {
    const b = new MemoryBudget(0);
    const c = new PageCache({ size: 4 * P, budget: b });
    expect(c.insert(0, page(1), 1)).toBe(false);
    expect(c.lookup(0, 1)).toBe(false);
    expect(c.stats.refusedBudget).toBe(1);
    c.close();
  });

  test('many caches share one budget; closing one lets the others grow', () => {
    const b = new MemoryBudget(40 * P);
    const caches = Array.from({ length: 8 }, () => new PageCache({ size: 16 * P, budget: b }));
    for (let round = 0; round < 16; round++) {
      for (const c of caches) c.insert(round * P, page(round), 1);
      expect(b.used).toBeLessThanOrEqual(b.size);
    }
    const held = caches.reduce((n, c) => n + c.memoryUsage.pages, 0);
    expect(b.used).toBe(held);
    expect(b.used).toBe(40 * P);
    const refused = caches.reduce((n, c) => n + c.stats.refusedBudget, 0);
    const pages = caches.reduce((n, c) => n + c.stats.pages, 0);
    expect(pages + refused).toBe(8 * 16);
    const freed = caches[0].memoryUsage.pages;
    caches[0].close();
    expect(b.used).toBe(40 * P - freed);
    let more = 0;
    for (const c of caches.slice(1)) for (let i = 0; i < 16; i++) more += +c.insert(i * P, page(i), 1);
    expect(b.used).toBe(40 * P);
    expect(more).toBeGreaterThan(0);
    for (const c of caches) c.close();
    expect(b.used).toBe(0);
  });

  test('clear and a shrinking resize give memory back; growing draws only as pages come', () => {
    const b = new MemoryBudget(64 * P);
    const c = new PageCache({ size: 32 * P, budget: b });
    for (let i = 0; i < 32; i++) c.insert(i * P, page(i), 1);
    expect(b.used).toBe(32 * P);
    c.resize(8 * P);
    expect(b.used).toBe(8 * P);
    expect(c.memoryUsage.pages).toBe(8 * P);
    c.resize(64 * P);
    expect(b.used).toBe(8 * P); // nothing allocated up front
    c.clear();
    expect(b.used).toBe(0);
    c.close();
  });

  test('the associative policy reuses an evictable way when the budget is spent', () => {
    const b = new MemoryBudget(2 * P);
    const c = new PageCache({ size: 8 * P, policy: 'associative', ways: 8, budget: b });
    c.insert(0, page(0), 1);
    c.insert(P, page(1), 1);
    expect(c.insert(2 * P, page(2), 1)).toBe(false); // no budget, no evictable way
    expect(c.stats.refusedBudget).toBe(1);
    expect(c.insert(3 * P, page(3), 3)).toBe(true); // the gen-1 pages may go now
    expect(b.used).toBe(2 * P);
    c.close();
  });

  test('a sender whose cache runs out of budget keeps sending (raw) and counts', () => {
    const b = new MemoryBudget(4 * P);
    const c = new PageCache({ size: 64 * P, budget: b });
    const s = new Sender({ cache: c });
    s.nextGeneration();
    const mem = Buffer.alloc(16 * P, 5);
    const r = s.sendPages(
      Array.from({ length: 16 }, (_, i) => i * P),
      mem,
    );
    expect([...r.kinds].every((k) => k === 1)).toBe(true);
    expect(c.stats.refusedBudget).toBe(12);
    expect(b.used).toBe(4 * P);
    c.close();
  });

  test('random use of several caches never exceeds the budget, and used is what they hold', () => {
    const rand = rng(9);
    const b = new MemoryBudget(100 * P + 123);
    const caches = [
      new PageCache({ size: 64 * P, budget: b }),
      new PageCache({ size: 32 * P, budget: b, policy: 'associative' }),
      new PageCache({ size: 128 * P, budget: b, policy: 'associative', ways: 4 }),
    ];
    let gen = 1;
    for (let op = 0; op < 2500; op++) {
      const c = caches[Math.floor(rand() * caches.length)];
      const r = rand();
      if (c.closed) continue;
      if (r < 0.7) c.insert(Math.floor(rand() * 400) * P, page(op & 0xff), gen);
      else if (r < 0.9) c.lookup(Math.floor(rand() * 400) * P, gen);
      else if (r < 0.97) gen++;
      else if (r < 0.99) c.resize(2 ** (2 + Math.floor(rand() * 6)) * P);
      else c.clear();
      expect(b.used).toBeLessThanOrEqual(b.size);
      expect(b.used).toBe(caches.reduce((n, k) => n + k.memoryUsage.pages, 0));
    }
    for (const c of caches) c.close();
    expect(b.used).toBe(0);
  });

  test('bad arguments', () => {
    expect(() => new MemoryBudget(-1)).toThrow(RangeError);
    expect(() => new MemoryBudget(1.5)).toThrow(/"bytes" argument must be an integer/);
    expect(() => new MemoryBudget('1' as never)).toThrow(TypeError);
    expect(() => new MemoryBudget(undefined as never)).toThrow(/"bytes"/);
  });
});

(native ? test : test.skip)('a twin cache and a native cache draw from the same budget (needs the addon)', () => {
  const before = kernels()[0];
  const b = new MemoryBudget(8 * P);
  const n = new PageCache({ size: 8 * P, budget: b });
  useKernel('js');
  const t = new PageCache({ size: 8 * P, budget: b });
  useKernel(before);
  expect([n.native, t.native]).toEqual([true, false]);
  for (let i = 0; i < 8; i++) {
    n.insert(i * P, page(i), 1);
    t.insert(i * P, page(i), 1);
  }
  expect(b.used).toBe(8 * P);
  expect(n.memoryUsage.pages + t.memoryUsage.pages).toBe(8 * P);
  t.close();
  n.close();
  expect(b.used).toBe(0);
});

test('a budget outlives its caches and caches outlive their budget object', () => {
  // Handles are reference-counted in native code: no order of GC is unsafe.
  let b: MemoryBudget | null = new MemoryBudget(4 * P);
  const c = new PageCache({ size: 4 * P, budget: b });
  b = null;
  (globalThis as { gc?: () => void }).gc?.();
  expect(c.insert(0, page(1), 1)).toBe(true);
  c.close();
});

// The slot table (16 B a slot) is written at construction: 2^26 one-byte
// pages under a 64 KiB budget added 1 GiB of RSS with budget.used at 0.
describe('a geometry whose slot tables outgrow the budget is refused', () => {
  test.each(['native', 'js'].filter((k) => k === 'js' || kernels().length > 1))('%s backend', (k) => {
    const before = kernel();
    useKernel(k === 'native' ? kernels()[0] : 'js');
    try {
      const budget = new MemoryBudget(64 * 1024);
      const rss = process.memoryUsage().rss;
      expect(() => new PageCache({ size: 2 ** 26, pageSize: 1, budget })).toThrow(RangeError);
      expect(() => new PageCache({ size: 2 ** 26, pageSize: 1, budget })).toThrow(/needs 1073744896 bytes of slot tables, more than its budget of 65536 bytes/);
      expect(process.memoryUsage().rss - rss).toBeLessThan(256 << 20);
      expect(budget.used).toBe(0);
      // Within the budget (2048 slots of 16 B, plus a chunk entry): the table is all it needs.
      const small = new PageCache({ size: 2 ** 11, pageSize: 1, budget: new MemoryBudget(0) });
      expect(small.memoryUsage.metadata).toBe(2048 * 16 + 12);
      small.close();
      // resize is held to the same rule.
      const c = new PageCache({ size: 2 ** 11, pageSize: 1, budget });
      expect(() => c.resize(2 ** 26)).toThrow(/slot tables, more than its budget/);
      expect(c.size).toBe(2 ** 11);
      c.close();
      // Without a budget nothing changes (the caller asked for no bound).
      new PageCache({ size: 2 ** 20, pageSize: 1 }).close();
    } finally {
      useKernel(before);
    }
  });
});
