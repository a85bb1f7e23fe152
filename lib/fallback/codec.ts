// fallback/codec.ts: the pure-TypeScript twin of the native core. Same
// contract, same bytes (FORMAT.md 1); it serves where no addon loads.
import { packRejection } from '../errors';

const TRUNCATED = 1;
const ULEB_TOO_LONG = 2;
const EMPTY_ZERO_RUN = 3;
const EMPTY_DATA_RUN = 4;
const PAST_PAGE = 5;
const PAST_INPUT = 6;

function ulebSize(v: number): number {
  return v < 128 ? 1 : v < 16384 ? 2 : 3;
}

function ulebPut(out: Uint8Array, o: number, v: number): number {
  if (v < 128) {
    out[o] = v;
    return o + 1;
  }
  out[o] = (v & 0x7f) | 0x80;
  out[o + 1] = v >>> 7;
  return o + 2;
}

/**
 * Writes the canonical delta of newp against oldp into out, never past
 * `limit` bytes. Returns its length, 0 when unchanged, -1 on overflow.
 * The caller guarantees equal lengths and limit <= min(page, out) length.
 */
export function encodeInto(oldp: Uint8Array, newp: Uint8Array, out: Uint8Array, limit: number): number {
  const size = newp.length;
  let i = 0;
  let o = 0;
  for (;;) {
    const zStart = i;
    while (i < size && oldp[i] === newp[i]) i++;
    if (i === size) return o; // no trailing zero run
    const z = i - zStart;
    const zs = ulebSize(z);
    const room = limit - o;
    if (room < zs + 2) return -1;
    // Scan no further than the limit allows, so hopeless pages stop early.
    const cap = room - zs - 1;
    const end = Math.min(size, i + cap + 1);
    const nStart = i;
    while (i < end && oldp[i] !== newp[i]) i++;
    const n = i - nStart;
    if (n > cap || zs + ulebSize(n) + n > room) return -1;
    o = ulebPut(out, o, z);
    o = ulebPut(out, o, n);
    out.set(newp.subarray(nStart, i), o);
    o += n;
  }
}

/** Reads a length at d[i] (i + 1 < d.length): [value, size], size 0 if invalid. */
function ulebGet(d: Uint8Array, i: number): [number, number] {
  const b0 = d[i];
  if (b0 < 0x80) return [b0, 1];
  const b1 = d[i + 1];
  if (b1 >= 0x80) return [0, 0];
  return [(b0 & 0x7f) | (b1 << 7), 2];
}

/** Validates without writing: the bytes covered, or a packed rejection. */
export function decodeCheck(d: Uint8Array, size: number): number {
  const s = d.length;
  let i = 0;
  let pos = 0;
  while (i < s) {
    if (s - i < 2) return packRejection(TRUNCATED, i);
    const [z, zk] = ulebGet(d, i);
    if (zk === 0) return packRejection(ULEB_TOO_LONG, i);
    if (i !== 0 && z === 0) return packRejection(EMPTY_ZERO_RUN, i);
    if (z > size - pos) return packRejection(PAST_PAGE, i);
    i += zk;
    pos += z;
    if (s - i < 2) return packRejection(TRUNCATED, i);
    const [n, nk] = ulebGet(d, i);
    if (nk === 0) return packRejection(ULEB_TOO_LONG, i);
    if (n === 0) return packRejection(EMPTY_DATA_RUN, i);
    if (n > size - pos) return packRejection(PAST_PAGE, i);
    if (n > s - i - nk) return packRejection(PAST_INPUT, i);
    i += nk + n;
    pos += n;
  }
  return pos;
}

/** Applies d to page in place after validating it: covered bytes or a packed rejection. */
export function decodeInto(d: Uint8Array, page: Uint8Array): number {
  const covered = decodeCheck(d, page.length);
  if (covered < 0) return covered;
  // The apply pass checks every bound again, as native/decode.cc does: d may
  // be shared memory another thread rewrites after the check, and then this
  // must stop (whatever was read is applied), not loop or throw.
  const s = d.length;
  const size = page.length;
  let i = 0;
  let pos = 0;
  while (s - i >= 2) {
    const [z, zk] = ulebGet(d, i);
    if (zk === 0 || z > size - pos) break;
    i += zk;
    pos += z;
    if (s - i < 2) break;
    const [n, nk] = ulebGet(d, i);
    if (nk === 0 || n > size - pos || n > s - i - nk) break;
    i += nk;
    page.set(d.subarray(i, i + n), pos);
    i += n;
    pos += n;
  }
  return covered;
}
