// bench/traces.ts: dirty-page traces of a migration (which pages each
// pre-copy pass sends again) and the replay that measures a cache policy's
// hit rate on them. Shared by bench/cache.js and the tests.
import { PageCache, type CachePolicy } from '../migration/cache';

/** Passes after the first (raw) one: page numbers in the order a pass visits them. */
export interface Trace {
  name: string;
  description: string;
  /** Guest memory in pages. */
  memoryPages: number;
  passes: Uint32Array[];
}

/** A small deterministic generator (mulberry32) so traces replay exactly. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sample(rand: () => number, n: number, k: number): number[] {
  const s = new Set<number>();
  while (s.size < k) s.add((rand() * n) | 0);
  return [...s];
}

// A pass visits its dirty pages in address order, as QEMU walks the bitmap.
function pass(pages: Iterable<number>): Uint32Array {
  return Uint32Array.from(new Set(pages)).sort();
}

/**
 * The traces of the policy comparison, on `memoryPages` pages of guest
 * memory (default 16384: 64 MiB of 4 KiB pages) over `passes` passes.
 */
export function traces(memoryPages = 16384, passes = 8, seed = 1): Trace[] {
  const M = memoryPages;
  const out: Trace[] = [];
  const make = (name: string, description: string, gen: (rand: () => number, g: number) => Iterable<number>): void => {
    const rand = rng(seed + out.length * 7919);
    out.push({ name, description, memoryPages: M, passes: Array.from({ length: passes }, (_, g) => pass(gen(rand, g))) });
  };
  const hot = sample(rng(seed + 1), M, M / 8);
  make('hot', `a hot set of ${M / 8} scattered pages every pass, plus ${M / 64} random ones`, (r) => [
    ...hot,
    ...sample(r, M, M / 64),
  ]);
  make('scan', `a sequential scan of ${M / 2} pages every pass (larger than most caches)`, () =>
    Array.from({ length: M / 2 }, (_, i) => i),
  );
  // Four regions M/4 pages apart, the same M/32 pages in each: pages that
  // share their low address bits, so a direct-mapped cache smaller than M/4
  // pages puts four of them on every slot.
  make('strided', `4 x ${M / 32} pages at a stride of ${M / 4} pages (conflict-heavy)`, () => {
    const p: number[] = [];
    for (let k = 0; k < 4; k++) for (let j = 0; j < M / 32; j++) p.push(k * (M / 4) + j);
    return p;
  });
  make('random', `${(3 * M) / 16} random pages each pass`, (r) => sample(r, M, (3 * M) / 16));
  const hot2 = sample(rng(seed + 2), M, M / 16);
  make('mixed', `a hot set of ${M / 16}, a moving scan of ${M / 8} and ${M / 32} random pages`, (r, g) => [
    ...hot2,
    ...Array.from({ length: M / 8 }, (_, i) => (g * (M / 8) + i) % M),
    ...sample(r, M, M / 32),
  ]);
  return out;
}

export interface Replay {
  lookups: number;
  hits: number;
  /** hits / lookups, in percent. */
  hitRate: number;
  refusedYoung: number;
}

/**
 * Replays a trace as the sender uses the cache: pass g (from 1) looks every
 * dirty page up at generation g and inserts it on a miss.
 */
export function replay(trace: Trace, policy: CachePolicy, cachePages: number, pageSize = 4096): Replay {
  const cache = new PageCache({ size: cachePages * pageSize, pageSize, policy });
  const page = Buffer.alloc(pageSize);
  let lookups = 0;
  let hits = 0;
  try {
    trace.passes.forEach((pages, i) => {
      const g = i + 1;
      for (let k = 0; k < pages.length; k++) {
        const addr = pages[k] * pageSize;
        lookups++;
        if (cache.lookup(addr, g)) hits++;
        else cache.insert(addr, page, g);
      }
    });
    return { lookups, hits, hitRate: lookups ? (100 * hits) / lookups : 0, refusedYoung: cache.stats.refused };
  } finally {
    cache.close();
  }
}
