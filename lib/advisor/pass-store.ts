// pass-store.ts: the dirty-page passes a CacheAdvisor keeps, compactly.
// A pass is a set of page numbers, walked in ascending order (QEMU walks its
// dirty bitmap that way, and the order decides which of two pages sharing a
// slot gets in). Each pass is kept as a list or as a bitmap over its span,
// whichever is smaller: a profile of 1 GiB dirtied every second costs
// 32 KiB per pass, not 2 MiB.

/** One stored pass. */
export interface StoredPass {
  /** Distinct pages in the pass. */
  readonly count: number;
  /** Ascending page numbers, or null when the pass is a bitmap. */
  readonly list: Float64Array | Uint32Array | null;
  /** First page of the bitmap. */
  readonly base: number;
  /** Bit i of word w set: page base + 32w + i is in the pass. */
  readonly bits: Uint32Array | null;
  /** Ascending pages whose hit cost is known, and their costs in bytes. */
  readonly knownPages: Float64Array;
  readonly knownBytes: Float64Array;
  /** 1 / the rate at which hit costs were sampled in this pass. */
  readonly weight: number;
}

const EMPTY = new Float64Array(0);

/**
 * Builds a pass from page numbers (any order, duplicates allowed: a page
 * counts once; its first cost wins) and optional per-page hit costs (NaN or
 * negative: unknown).
 */
export function storePass(pages: Float64Array, costs: ArrayLike<number> | null, costSampleRate: number): StoredPass {
  let order: Uint32Array | null = null;
  for (let i = 1; i < pages.length; i++) {
    if (!(pages[i] > pages[i - 1])) {
      if (!costs) {
        // Nothing to keep aligned: the typed array's own numeric sort is fastest.
        pages = pages.slice().sort();
        break;
      }
      // Not strictly ascending: sort an index so costs stay aligned.
      order = new Uint32Array(pages.length);
      for (let k = 0; k < order.length; k++) order[k] = k;
      order.sort((a, b) => pages[a] - pages[b] || a - b);
      break;
    }
  }
  const at = (k: number): number => (order ? order[k] : k);
  const uniq = new Float64Array(pages.length);
  const kp: number[] = [];
  const kb: number[] = [];
  let n = 0;
  for (let k = 0; k < pages.length; k++) {
    const i = at(k);
    const p = pages[i];
    if (n > 0 && uniq[n - 1] === p) continue;
    uniq[n++] = p;
    const c = costs ? costs[i] : NaN;
    if (c >= 0) {
      kp.push(p);
      kb.push(c);
    }
  }
  const knownPages = kp.length ? Float64Array.from(kp) : EMPTY;
  const knownBytes = kb.length ? Float64Array.from(kb) : EMPTY;
  const weight = 1 / costSampleRate;
  if (n === 0) return { count: 0, list: new Uint32Array(0), base: 0, bits: null, knownPages, knownBytes, weight };
  const first = uniq[0];
  const last = uniq[n - 1];
  const span = last - first + 1;
  const small = last < 2 ** 32;
  const listBytes = n * (small ? 4 : 8);
  const bitmapBytes = Math.ceil(span / 32) * 4;
  if (bitmapBytes < listBytes) {
    const bits = new Uint32Array(Math.ceil(span / 32));
    for (let k = 0; k < n; k++) {
      const d = uniq[k] - first;
      bits[Math.floor(d / 32)] |= 1 << d % 32;
    }
    return { count: n, list: null, base: first, bits, knownPages, knownBytes, weight };
  }
  const list = small ? Uint32Array.from(uniq.subarray(0, n)) : uniq.slice(0, n);
  return { count: n, list, base: 0, bits: null, knownPages, knownBytes, weight };
}

/** Writes the pass's pages, ascending, into out (length >= count); returns count. */
export function decodePass(p: StoredPass, out: Float64Array): number {
  if (p.list) {
    out.set(p.list);
    return p.count;
  }
  const bits = p.bits!;
  let n = 0;
  // x stays an int32 throughout: mixing uint32 words above 2^31 (doubles)
  // with int32 bit tricks made V8 deoptimise this loop over and over.
  for (let w = 0; w < bits.length; w++) {
    let x = bits[w] | 0;
    let at = p.base + w * 32;
    while (x !== 0) {
      if ((x & 0xff) === 0) {
        x >>>= 8;
        at += 8;
        continue;
      }
      if (x & 1) out[n++] = at;
      x >>>= 1;
      at++;
    }
  }
  return n;
}

/** Bytes the pass occupies (for memory accounting). */
export function passBytes(p: StoredPass): number {
  return (p.list ? p.list.byteLength : p.bits!.byteLength) + p.knownPages.byteLength + p.knownBytes.byteLength + 64;
}
