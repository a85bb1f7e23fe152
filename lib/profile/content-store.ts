// profile/content-store.ts: copies of dirtied pages, to encode each page
// against what it was the last time it was dirty (what the sender's cache
// holds on a hit), and the outcome of each such encode.
//
// Keeping a copy of every page would double the profiled memory, so copies
// are kept for a spatial sample of pages (hash(offset) below a threshold)
// sized to a byte budget; the outcome shares are estimated from the sample.
// The threshold only ever drops (halving, evicting the pages that leave the
// sample), and each pass records the rate in force, so estimates can weight
// passes sampled at different rates.
import { mix32 } from '../advisor/cache-sim';
import { encodeInto } from '../codec/page';
import { MAX_PAGE_SIZE } from '../util/checks';
import { floorPowerOfTwo } from '../util/sizes';

/** Outcome codes (u16): 0..pageSize is the delta length (0: unchanged). */
export const OUTCOME_OVERFLOW = 0xfffe;
/** The page's first dirtying in the profile: no earlier copy (a miss at any cache size). */
export const OUTCOME_FIRST = 0xfffd;
/** Not in the content sample. */
export const OUTCOME_UNKNOWN = 0xffff;

/** The class of an outcome code. */
export type OutcomeClass = 'unchanged' | 'encodable' | 'overflow' | 'first' | 'unknown';

export function outcomeClass(o: number): OutcomeClass {
  if (o === OUTCOME_UNKNOWN) return 'unknown';
  if (o === OUTCOME_FIRST) return 'first';
  if (o === OUTCOME_OVERFLOW) return 'overflow';
  return o === 0 ? 'unchanged' : 'encodable';
}

/** Bytes XBZRLE sends for a page with this outcome on a cache hit (docs/FORMAT.md §3), NaN when unknown. */
export function hitCost(o: number, pageSize: number): number {
  if (o === OUTCOME_UNKNOWN || o === OUTCOME_FIRST) return NaN;
  if (o === OUTCOME_OVERFLOW) return pageSize;
  return o === 0 ? 0 : o + 3;
}

const SEED = 0x2545f491;

const PAIRS = 128; // page pairs kept to time the encoder on (1 MiB at 4 KiB pages)
export class ContentStore {
  /**
   * Wall seconds spent in the encoder, and encodes done. On a busy host this
   * includes preemption (and process CPU time would include V8's GC
   * threads), so the encoder's cost per page is measured by calibrate().
   */
  encodeSeconds = 0;
  encodes = 0;
  private threshold = 2 ** 32;
  private readonly copies = new Map<number, Buffer>();
  private readonly out: Buffer;
  private readonly maxPages: number;
  private readonly pairs: { old: Buffer; now: Buffer }[] = [];
  private seen = 0;
  private rng = 0x9e3779b9;
  /** False when the page size is above what XBZRLE encodes (16 KiB). */
  readonly enabled: boolean;

  constructor(
    readonly pageSize: number,
    readonly budgetBytes: number,
  ) {
    this.enabled = pageSize <= MAX_PAGE_SIZE;
    this.maxPages = Math.max(1, Math.floor(budgetBytes / pageSize));
    this.out = Buffer.alloc(Math.min(pageSize, MAX_PAGE_SIZE));
  }

  /** The fraction of pages sampled now. */
  get rate(): number {
    return this.threshold / 2 ** 32;
  }

  /** Pages held and their bytes. */
  get storedPages(): number {
    return this.copies.size;
  }

  get storedBytes(): number {
    return this.copies.size * this.pageSize;
  }

  /** Lowers the rate so that all `totalPages` sampled would fit the budget. */
  fit(totalPages: number): void {
    const rate = Math.max(2 ** -32, Math.min(1, floorPowerOfTwo(this.maxPages / Math.max(1, totalPages))));
    if (rate * 2 ** 32 < this.threshold) this.lower(rate * 2 ** 32);
  }

  /** True when the page at this offset is in the sample. */
  wants(offset: number): boolean {
    return this.enabled && mix32(offset ^ SEED) < this.threshold;
  }

  /**
   * The outcome of a dirty page: encodes `content` against the copy from
   * the page's previous dirtying and keeps `content` as the new copy.
   */
  classify(offset: number, content: Uint8Array | null): number {
    if (!content || !this.wants(offset)) return OUTCOME_UNKNOWN;
    const copy = this.copies.get(offset);
    if (!copy) {
      if (this.copies.size >= this.maxPages) {
        this.lower(this.threshold / 2);
        if (!this.wants(offset)) return OUTCOME_UNKNOWN;
      }
      this.copies.set(offset, Buffer.from(content));
      return OUTCOME_FIRST;
    }
    this.keepPair(copy, content);
    const t0 = performance.now();
    const n = encodeInto(copy, content, this.out);
    this.encodeSeconds += (performance.now() - t0) / 1000;
    this.encodes++;
    if (n !== 0) copy.set(content);
    return n < 0 ? OUTCOME_OVERFLOW : n;
  }

  /**
   * The encoder's time per page, microseconds: the kept pairs (a uniform
   * sample of this run's encodes) are encoded once each, round after round,
   * so that each pair has left the core's own caches by its turn (a
   * migration reads pages from memory too); each pair's fastest round
   * counts, which leaves out preemption on a busy host; the mean over the
   * pairs. Null before any encode.
   */
  calibrate(): number | null {
    if (!this.pairs.length) return null;
    const best = new Float64Array(this.pairs.length).fill(Infinity);
    for (let round = 0; round < 3; round++) {
      this.pairs.forEach(({ old, now }, k) => {
        const t0 = performance.now();
        encodeInto(old, now, this.out);
        best[k] = Math.min(best[k], performance.now() - t0);
      });
    }
    return (best.reduce((a, b) => a + b, 0) / best.length) * 1000;
  }

  // Reservoir sampling: every encode so far is in the sample with the same odds.
  private keepPair(old: Buffer, now: Uint8Array): void {
    this.seen++;
    let at = this.pairs.length;
    if (at >= PAIRS) {
      this.rng = (Math.imul(this.rng, 1664525) + 1013904223) >>> 0;
      at = Math.floor((this.rng / 2 ** 32) * this.seen);
      if (at >= PAIRS) return;
    }
    this.pairs[at] = { old: Buffer.from(old), now: Buffer.from(now) };
  }

  private lower(threshold: number): void {
    this.threshold = threshold;
    for (const k of this.copies.keys()) if (mix32(k ^ SEED) >= threshold) this.copies.delete(k);
  }
}
