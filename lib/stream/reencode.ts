// reencode.ts: checks that a delta QEMU sent is the one our encoder makes for
// the same page pair, and says why when it is not.
import { encode } from '../codec/page';

export interface Reencoded {
  identical: boolean;
  /** Our encoding of (before, after); null if it would not fit in the page. */
  ours: Buffer | null;
  /** Why QEMU's bytes differ, when they do. */
  why?: string;
}

/** Reads a ULEB128 of at most two bytes (the decoder already accepted it). */
function uleb(d: Uint8Array, i: number): [value: number, size: number] {
  if (d[i] < 0x80) return [d[i], 1];
  return [(d[i] & 0x7f) | (d[i + 1] << 7), 2];
}

/** The first way in which `delta` is not the canonical encoding of before -> after. */
export function explain(before: Uint8Array, delta: Uint8Array): string {
  let i = 0;
  let d = 0;
  let first = true;
  while (i < delta.length) {
    const [z, zs] = uleb(delta, i);
    if (zs === 2 && z < 0x80) return `non-minimal ULEB128 unchanged-run length at delta byte ${i}`;
    i += zs;
    d += z;
    const [n, ns] = uleb(delta, i);
    if (ns === 2 && n < 0x80) return `non-minimal ULEB128 changed-run length at delta byte ${i}`;
    i += ns;
    if (!first && z === 0) return `unchanged run of length 0 at delta byte ${i}`;
    for (let k = 0; k < n; k++) {
      if (delta[i + k] === before[d + k]) {
        return `changed run at page offset ${d} carries byte ${d + k}, which equals the receiver's old byte (the sender's cached copy differed from the receiver's page)`;
      }
    }
    i += n;
    d += n;
    first = false;
  }
  return 'runs split differently from the canonical encoding';
}

export function reencode(before: Uint8Array, after: Uint8Array, delta: Uint8Array): Reencoded {
  const ours = encode(before, after);
  if (ours && ours.equals(delta)) return { identical: true, ours };
  return { identical: false, ours, why: explain(before, delta) };
}
