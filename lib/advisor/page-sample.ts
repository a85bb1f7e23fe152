// advisor/page-sample.ts: a spatial sample of pages (SHARDS-style), shared
// by the profiler (which pages it fingerprints) and the cache simulation
// (how the sampled pages stand for all of them).
//
// Memory is cut into groups of run / rate pages; in each group one run of
// `run` consecutive pages is sampled (one read each for the profiler), the
// run chosen by a hash of the group's place within M = `units` pages. So:
// - whether a page is sampled depends only on page mod M. Caches index by
//   set = page mod sets, so a cache with at least M sets has whole sets in
//   the sample, with every page that maps to them (set sampling);
// - every group holds exactly one sampled run, so numbering the sampled
//   pages densely (compress) keeps the layout at `rate` scale: a contiguous
//   working set of W pages becomes one of W x rate. A cache of S slots is
//   simulated as one of S x rate slots over the compressed pages (SHARDS
//   with a scaled cache). For caches of at least M sets this is the set
//   sample exactly: compress(p) mod (S x rate) = compress(p mod S).
// A random choice of a run per group (not the same one in every group)
// keeps the sample from aliasing with strided layouts. M is a trade: the
// scaled cache keeps the load of each slot but not which pages share it,
// and a workload can tie the timing of pages that share a set (the
// dirtier's multiplicative order writes pages p and p + S exactly half a
// period apart: 4% hits exactly, 26% from a scaled cache), so as much of
// the curve as possible should come from whole sets. The default M is 16
// groups: 16 independent choices, and whole sets from caches of 16 x run /
// rate sets up (8 MiB at 1/8, 32 MiB at 1/32, 512 MiB at 1/512 for 4 KiB
// pages in runs of 16).
import { mix32 } from './cache-sim';
import { isPowerOfTwo } from '../util/sizes';

const SEED = 0x5bd1e995;

/** The lowest rate a sample takes (2^-24: one 4 KiB page in 64 GiB). */
export const MIN_SAMPLE_RATE = 2 ** -24;

/** How a trace was sampled: enough to rebuild its PageSample. */
export interface PageSampleSpec {
  /** The fraction of pages sampled, a power of two in [2^-24, 1]. */
  rate: number;
  /** Pages per sampled run, a power of two (default 1). */
  run?: number;
  /** M, pages: the sample repeats every M pages (default 16 x run / rate). */
  units?: number;
}

/** Checks a rate: a power of two in [MIN_SAMPLE_RATE, 1]. */
export function checkSampleRate(rate: unknown, name: string): number {
  if (typeof rate !== 'number' || !(rate >= MIN_SAMPLE_RATE && rate <= 1) || !isPowerOfTwo(1 / rate)) {
    throw new RangeError(`${name} must be 1 or a power-of-two fraction (1/2, 1/4, ... down to 1/2^24), received ${String(rate)}`);
  }
  return rate;
}

export class PageSample {
  readonly rate: number;
  readonly run: number;
  readonly units: number;
  /** Pages per group: run / rate. */
  readonly groupPages: number;
  private readonly groupRuns: number;
  private readonly groupMask: number;

  constructor(spec: PageSampleSpec) {
    this.rate = checkSampleRate(spec.rate, 'rate');
    const run = spec.run ?? 1;
    if (!isPowerOfTwo(run) || run > 2 ** 20) throw new RangeError(`run must be a power of two up to 2^20 pages, received ${run}`);
    this.run = run;
    this.groupPages = run / this.rate;
    this.groupRuns = 1 / this.rate;
    const units = spec.units ?? 16 * this.groupPages;
    if (!isPowerOfTwo(units) || units < this.groupPages || units > 2 ** 52) {
      throw new RangeError(`units must be a power of two of at least run / rate (${this.groupPages}) pages, received ${units}`);
    }
    this.units = units;
    // Groups repeat every M pages; the mask keeps the group's place within M.
    this.groupMask = units / this.groupPages - 1;
  }

  /** The spec that rebuilds this sample. */
  get spec(): Required<PageSampleSpec> {
    return { rate: this.rate, run: this.run, units: this.units };
  }

  /** True when the page is in the sample. */
  has(page: number): boolean {
    if (this.rate === 1) return true;
    const g = Math.floor(page / this.groupPages);
    return Math.floor((page - g * this.groupPages) / this.run) === this.chosen(g);
  }

  /** The page's number among the sampled pages (dense, ascending with the page); for sampled pages. */
  compress(page: number): number {
    if (this.rate === 1) return page;
    return Math.floor(page / this.groupPages) * this.run + (page % this.run);
  }

  /** How many compressed numbers the pages [0, pages) can take. */
  compressedSize(pages: number): number {
    return this.rate === 1 ? pages : Math.ceil(pages / this.groupPages) * this.run;
  }

  /** The sampled pages among [0, pages): about rate x pages. */
  sampledIn(pages: number): number {
    let n = 0;
    this.forEachRun(0, pages, (_s, len) => void (n += len));
    return n;
  }

  /** Calls fn(first, count) for each stretch of sampled pages in [from, from + count), ascending; adjacent runs are merged. */
  forEachRun(from: number, count: number, fn: (first: number, count: number) => void): void {
    if (count <= 0) return;
    const to = from + count;
    if (this.rate === 1) {
      fn(from, count);
      return;
    }
    let s0 = -1;
    let e0 = -1;
    const G = this.groupPages;
    for (let g = Math.floor(from / G); g * G < to; g++) {
      const s = Math.max(from, g * G + this.chosen(g) * this.run);
      const e = Math.min(to, g * G + (this.chosen(g) + 1) * this.run);
      if (e <= s) continue;
      if (s === e0) {
        e0 = e;
        continue;
      }
      if (s0 >= 0) fn(s0, e0 - s0);
      s0 = s;
      e0 = e;
    }
    if (s0 >= 0) fn(s0, e0 - s0);
  }

  // The sampled run of group g (its index among the group's runs).
  private chosen(g: number): number {
    return mix32((g % (this.groupMask + 1)) ^ SEED) & (this.groupRuns - 1);
  }
}
