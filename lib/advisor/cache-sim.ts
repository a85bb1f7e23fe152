// cache-sim.ts: exact simulations of the sender's page cache over a trace of
// dirty passes (docs/FORMAT.md §3), one cache size and policy at a time.
//
// Both policies index by set = page & (sets - 1), so the sets of a cache are
// independent of each other. Spatial sampling (page-sample.ts) therefore
// keeps whole sets for large caches, and runs a cache scaled by the sample
// rate over the sampled pages numbered densely; the simulation here is the
// same either way.

/** 'qemu': direct-mapped with QEMU's age rule; 'associative': 8-way sets with PageCache's victim rule. */
import type { CachePolicy } from '../migration/cache';
export type { CachePolicy };

/** The policies, in report order. */
export const POLICIES: readonly CachePolicy[] = ['qemu', 'associative'];

/** Ways per set of the 'associative' policy (fewer when the cache has fewer slots). */
export const ASSOCIATIVE_WAYS = 8;

/** Counts from one simulation (over the events it saw: all, or the sample). */
export interface SimCounts {
  events: number;
  hits: number;
  misses: number;
  /** Misses whose insert was refused (the slot or set was in recent use). */
  refused: number;
  /** Hits whose cost is known (weighted by 1 / cost sample rate), and their bytes. */
  knownHitWeight: number;
  knownHitBytes: number;
}

// A well-mixed 32-bit hash (the murmur3 finaliser), so sampling decisions do
// not follow the address layout.
export function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Ways actually used by a cache of `slots` slots under `policy`. */
export function waysOf(policy: CachePolicy, slots: number): number {
  return policy === 'qemu' ? 1 : Math.min(ASSOCIATIVE_WAYS, slots);
}

/** Sets of a cache of `slots` slots under `policy`. */
export function setsOf(policy: CachePolicy, slots: number): number {
  return slots / waysOf(policy, slots);
}

/**
 * One cache being simulated. Feed it the passes in order with runPass; the
 * generation of the first pass is 1 (the bulk first pass, generation 0,
 * neither reads nor fills the cache).
 */
export class CacheSim implements SimCounts {
  events = 0;
  hits = 0;
  misses = 0;
  refused = 0;
  knownHitWeight = 0;
  knownHitBytes = 0;

  private readonly tags: Float64Array;
  private readonly ages: Int32Array;
  private readonly ways: number;
  private readonly setMask: number;
  // Walk direction over lookups, as the real associative cache keeps it.
  private dir = 0;
  private lastPage = 0;

  /**
   * @param policy the replacement policy
   * @param slots  total page slots, a power of two up to 2^31
   */
  constructor(readonly policy: CachePolicy, readonly slots: number) {
    this.ways = waysOf(policy, slots);
    this.setMask = slots / this.ways - 1;
    this.tags = new Float64Array(slots).fill(-1);
    this.ages = new Int32Array(slots);
  }

  /** Bytes of simulation state. */
  get stateBytes(): number {
    return this.tags.byteLength + this.ages.byteLength;
  }

  /**
   * Runs one pass: `pages[0..n)` ascending page numbers dirtied in generation
   * `gen`; knownPages/knownBytes: the ascending subset whose hit cost is known.
   */
  runPass(pages: Float64Array, n: number, gen: number, knownPages: Float64Array, knownBytes: Float64Array, weight: number): void {
    if (this.policy === 'qemu') this.runDirect(pages, n, gen, knownPages, knownBytes, weight);
    else this.runAssociative(pages, n, gen, knownPages, knownBytes, weight);
  }

  // Set index in the state arrays.
  private index(page: number): number {
    return (page >>> 0) & this.setMask;
  }

  private runDirect(pages: Float64Array, n: number, gen: number, kp: Float64Array, kb: Float64Array, weight: number): void {
    const { tags, ages } = this;
    const kn = kp.length;
    let j = 0;
    let hits = 0;
    let misses = 0;
    let refused = 0;
    let events = 0;
    for (let i = 0; i < n; i++) {
      const page = pages[i];
      const idx = this.index(page);
      events++;
      if (tags[idx] === page) {
        // Hit: QEMU refreshes the age so the page is kept.
        hits++;
        ages[idx] = gen;
        if (kn !== 0) {
          while (j < kn && kp[j] < page) j++;
          if (j < kn && kp[j] === page) {
            this.knownHitWeight += weight;
            this.knownHitBytes += weight * kb[j];
          }
        }
      } else {
        misses++;
        // Insert, unless the slot holds another page used in the last two generations.
        if (tags[idx] >= 0 && ages[idx] + 2 > gen) refused++;
        else {
          tags[idx] = page;
          ages[idx] = gen;
        }
      }
    }
    this.events += events;
    this.hits += hits;
    this.misses += misses;
    this.refused += refused;
  }

  private runAssociative(pages: Float64Array, n: number, gen: number, kp: Float64Array, kb: Float64Array, weight: number): void {
    const { tags, ages, ways } = this;
    const kn = kp.length;
    let j = 0;
    for (let i = 0; i < n; i++) {
      const page = pages[i];
      const idx = this.index(page);
      this.events++;
      // The real cache tracks the direction of the walk over its lookups.
      if (page !== this.lastPage) {
        this.dir = Math.max(-64, Math.min(64, this.dir + (page > this.lastPage ? 1 : -1)));
        this.lastPage = page;
      }
      const base = idx * ways;
      let hit = -1;
      for (let w = base; w < base + ways; w++) {
        if (tags[w] === page) {
          hit = w;
          break;
        }
      }
      if (hit >= 0) {
        this.hits++;
        ages[hit] = gen;
        if (kn !== 0) {
          while (j < kn && kp[j] < page) j++;
          if (j < kn && kp[j] === page) {
            this.knownHitWeight += weight;
            this.knownHitBytes += weight * kb[j];
          }
        }
        continue;
      }
      this.misses++;
      const victim = this.victim(base, page, gen);
      if (victim < 0) this.refused++;
      else {
        tags[victim] = page;
        ages[victim] = gen;
      }
    }
  }

  // PageCache({policy:'associative'})'s victim rule (native/core/page_cache.cc
  // PageCache::victim): an empty way; else, among ways idle for two
  // generations, the oldest; then one the walk has passed; then the farthest
  // away. A way still ahead of the walk needs one more idle generation.
  private victim(base: number, page: number, gen: number): number {
    const { tags, ages, ways } = this;
    for (let w = base; w < base + ways; w++) if (tags[w] < 0) return w;
    let best = -1;
    let bestBehind = false;
    let bestDist = 0;
    for (let w = base; w < base + ways; w++) {
      const age = ages[w];
      if (age + 2 > gen) continue;
      const behind = this.dir >= 0 ? tags[w] < page : tags[w] > page;
      if (!behind && age + 3 > gen) continue;
      const dist = Math.abs(tags[w] - page);
      if (best < 0 || age < ages[best] || (age === ages[best] && ((behind && !bestBehind) || (behind === bestBehind && dist > bestDist)))) {
        best = w;
        bestBehind = behind;
        bestDist = dist;
      }
    }
    return best;
  }
}
