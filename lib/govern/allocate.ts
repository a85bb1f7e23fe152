// govern/allocate.ts: how VMs that decide together share the budget left.
//
// Each VM claims its ideal cache (the smallest reaching the target) and a
// curve of hit rates by size. When every ideal fits, each gets it. When not,
// the budget goes where it saves the most: starting from no cache, the step
// to a larger size with the most hits per byte of host cost is taken first
// (hits weighted by the VM's dirty rate, so a hit is worth the same page
// anywhere), until no step that fits gains anything. Any larger size is a
// step, not only the next one, because curves are steps and plateaus: a
// doubling that gains nothing can come before one that gains most.
import { cacheCost } from './cost';

export interface Claim {
  /** The size this VM would take alone (0: XBZRLE does not pay). */
  ideal: number;
  /** Bytes per second of guest pages dirtied: what one point of hit rate is worth. */
  rate: number;
  /** Sizes it may be given, ascending, each at most `ideal`. */
  sizes: number[];
  /** Predicted hit rate at one of `sizes` (0 at size 0). */
  hitRate(size: number): number;
}

/** Sizes for `claims`, whose summed host cost stays within `cap` bytes. */
export function allocate(claims: readonly Claim[], cap: number, pageSize = 4096): number[] {
  const cost = (s: number) => cacheCost(s, pageSize);
  if (claims.reduce((sum, c) => sum + cost(c.ideal), 0) <= cap) return claims.map((c) => c.ideal);
  const given = claims.map(() => 0);
  let used = 0;
  for (;;) {
    let best: { i: number; size: number; gain: number; perByte: number } | null = null;
    for (let i = 0; i < claims.length; i++) {
      const c = claims[i];
      const from = given[i];
      const worth = c.rate > 0 ? c.rate : 1;
      for (const size of c.sizes) {
        if (size <= from || size > c.ideal) continue;
        const extra = cost(size) - cost(from);
        if (used + extra > cap) break;
        const gain = worth * (c.hitRate(size) - c.hitRate(from));
        if (!(gain > 0)) continue;
        const perByte = gain / extra;
        if (!best || perByte > best.perByte || (perByte === best.perByte && gain > best.gain)) best = { i, size, gain, perByte };
      }
    }
    if (!best) return given;
    const { i, size } = best;
    used += cost(size) - cost(given[i]);
    given[i] = size;
  }
}
