// lib/twin/batch.ts: the twin's batch loops, the same contract as
// native/core/batch.cc (lib/codec/batch.ts has already checked every argument).
import { REJECT_OVERLAP } from '../backend/abi';
import type { DecodePagesArgs, EncodePagesArgs } from '../backend/addon';
import { overlaps } from '../util/checks';
import { packRejection } from '../util/errors';
import { decodeInto, encodeInto } from './codec';

// Buffer's compare reads any Uint8Array and takes ranges, so equal pages are
// found at memcmp speed without making views, as the native loop does.
const compare = Buffer.prototype.compare;

/** Encodes lengths.length pages back to back into out; returns the bytes written. */
export function encodePages(
  ...[oldPages, newPages, oldIndexes, indexes, pageSize, limit, out, offsets, lengths]: EncodePagesArgs
): number {
  let o = 0;
  for (let k = 0; k < lengths.length; k++) {
    const a = (oldIndexes ? oldIndexes[k] : k) * pageSize;
    const b = (indexes ? indexes[k] : k) * pageSize;
    let n = 0;
    if (compare.call(newPages, oldPages, a, a + pageSize, b, b + pageSize) !== 0) {
      n = encodeInto(
        oldPages.subarray(a, a + pageSize),
        newPages.subarray(b, b + pageSize),
        out.subarray(o, o + limit),
        limit,
      );
    }
    offsets[k] = o;
    lengths[k] = n;
    if (n > 0) o += n;
  }
  return o;
}

/** Applies every valid delta; null, or the rejections as [page, packed, ...]. */
export function decodePages(...[deltas, offsets, lengths, pages, indexes, pageSize]: DecodePagesArgs): number[] | null {
  let fails: number[] | null = null;
  for (let k = 0; k < lengths.length; k++) {
    const len = lengths[k];
    if (len <= 0) continue; // -1: sent raw, 0: unchanged
    const at = (indexes ? indexes[k] : k) * pageSize;
    const delta = deltas.subarray(offsets[k], offsets[k] + len);
    const page = pages.subarray(at, at + pageSize);
    // Decoding would overwrite the delta as it reads it; the native decoder
    // refuses this at offset 0, and so does the twin.
    const r = overlaps(delta, page) ? packRejection(REJECT_OVERLAP, 0) : decodeInto(delta, page);
    if (r < 0) (fails ??= []).push(k, r);
  }
  return fails;
}
