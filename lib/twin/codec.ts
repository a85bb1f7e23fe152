// lib/twin/codec.ts: the pure-TypeScript twin of the native core. Same
// contract, same bytes (docs/FORMAT.md §1); it serves where no addon loads.
import * as abi from '../backend/abi';
import { packRejection } from '../util/errors';

const {
  REJECT_TRUNCATED: TRUNCATED,
  REJECT_ULEB_TOO_LONG: ULEB_TOO_LONG,
  REJECT_EMPTY_ZERO_RUN: EMPTY_ZERO_RUN,
  REJECT_EMPTY_DATA_RUN: EMPTY_DATA_RUN,
  REJECT_PAST_PAGE: PAST_PAGE,
  REJECT_PAST_INPUT: PAST_INPUT,
} = abi;

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

// Index of the lowest set bit of a nonzero 32-bit value.
function ctz(x: number): number {
  return 31 - Math.clz32(x & -x);
}

// A zero byte of x flags its top bit here; the lowest flag is always a true
// zero byte (a borrow can only flag bytes above one).
function zeroBytes(x: number): number {
  return ((x - 0x01010101) | 0) & ~x & 0x80808080;
}

// The word scans below find a byte by its bit position, which holds only
// when the first byte of a word is its low byte: on a big-endian host
// (s390x, where the twin is what serves) they are off and bytes are compared.
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

// The pages as 32-bit words, or null when they do not sit at 4-byte-aligned
// offsets.
function wordsOf(p: Uint8Array, words: number): Int32Array | null {
  return words ? new Int32Array(p.buffer, p.byteOffset, words) : null;
}

// The first index at or after i where the pages differ (size if none). A
// busy page's changes sit at unpredictable places: a byte loop would
// mispredict its exit at each one, the word scan branches once per word.
function zeroRunEnd(oldp: Uint8Array, newp: Uint8Array, ow: Int32Array | null, nw: Int32Array | null, i: number): number {
  if (ow !== null && nw !== null) {
    const words = ow.length;
    let w = i >> 2;
    if (w < words) {
      let x = (ow[w] ^ nw[w]) & (-1 << ((i & 3) << 3));
      while (x === 0 && ++w < words) x = ow[w] ^ nw[w];
      if (x !== 0) return (w << 2) + (ctz(x) >> 3);
      i = words << 2;
    }
  }
  const size = newp.length;
  while (i < size && oldp[i] === newp[i]) i++;
  return i;
}

// The first index after i (byte i differs) where the pages agree, scanning
// no further than end (returned when they differ all the way).
function dataRunEnd(oldp: Uint8Array, newp: Uint8Array, ow: Int32Array | null, nw: Int32Array | null, i: number, end: number): number {
  let j = i + 1;
  if (ow !== null && nw !== null) {
    const words = ow.length;
    let w = j >> 2;
    if (w < words) {
      // The bytes before j count as differing.
      let m = zeroBytes((ow[w] ^ nw[w]) | ((1 << ((j & 3) << 3)) - 1));
      while (m === 0 && ++w < words && w << 2 < end) m = zeroBytes(ow[w] ^ nw[w]);
      if (m !== 0) return Math.min(end, (w << 2) + (ctz(m) >> 3));
      j = Math.min(end, w << 2);
    }
  }
  while (j < end && oldp[j] !== newp[j]) j++;
  return j;
}

// Bit k set iff byte k of the 32-bit word x is nonzero (k < 4): the top bit
// of each byte flags it, then one multiply gathers the four flags.
function nonzeroBytes(x: number): number {
  const f = (((x & 0x7f7f7f7f) + 0x7f7f7f7f) | x) & 0x80808080;
  return (Math.imul(f >>> 7, 0x204081) >>> 21) & 0xf;
}

// One pair (z, n, newp[run..run+n)) at out + o: the new length, or -1 when
// it does not fit in limit.
function putPair(out: Uint8Array, o: number, limit: number, z: number, n: number, newp: Uint8Array, run: number): number {
  if (ulebSize(z) + ulebSize(n) + n > limit - o) return -1;
  o = ulebPut(out, o, z);
  o = ulebPut(out, o, n);
  if (n < 32) for (let k = run; k < run + n; k++) out[o++] = newp[k];
  else {
    out.set(newp.subarray(run, run + n), o); // a view per run only pays for long runs
    o += n;
  }
  return o;
}

// The aligned little-endian path, as the native walker runs: a 32-bit mask
// of the bytes that differ per 32-byte block (8 words), whose bit changes
// are the run boundaries, found with one count of trailing zeros each. A
// busy page then costs a few operations per boundary instead of two word
// scans per pair. size is a multiple of 32 here.
function encodeBlocks(newp: Uint8Array, ow: Int32Array, nw: Int32Array, out: Uint8Array, limit: number): number {
  const words = ow.length;
  let o = 0;
  let run = 0; // where the run in progress starts
  let z = 0; // the zero run before the changed run in progress
  let changed = 0; // 1 while a changed run is open
  for (let w = 0; w < words; w += 8) {
    if (changed === 0) {
      // No run open: skip equal words one compare each, to the block of
      // the first that differs.
      let v = w;
      while (v < words && ow[v] === nw[v]) v++;
      if (v === words) break;
      w = v & ~7;
    }
    let m = 0;
    for (let k = 0; k < 8; k++) m |= nonzeroBytes(ow[w + k] ^ nw[w + k]) << (k << 2);
    const base = w << 2;
    // Bit j: byte base + j starts a run (its state differs from the byte before).
    let t = m ^ ((m << 1) | changed);
    while (t !== 0) {
      const at = base + ctz(t);
      t &= t - 1;
      if (changed !== 0) {
        o = putPair(out, o, limit, z, at - run, newp, run);
        if (o < 0) return -1;
        changed = 0;
      } else {
        z = at - run;
        changed = 1;
      }
      run = at;
    }
    // A run that goes on and already cannot fit: stop early.
    if (changed !== 0 && ulebSize(z) + ulebSize(base + 32 - run) + base + 32 - run > limit - o) return -1;
  }
  if (changed !== 0) return putPair(out, o, limit, z, (words << 2) - run, newp, run);
  return o;
}

/**
 * Writes the canonical delta of newp against oldp into out, never past
 * `limit` bytes. Returns its length, 0 when unchanged, -1 on overflow.
 * The caller guarantees equal lengths and limit <= min(page, out) length.
 */
export function encodeInto(oldp: Uint8Array, newp: Uint8Array, out: Uint8Array, limit: number): number {
  const size = newp.length;
  const words = LITTLE_ENDIAN && ((oldp.byteOffset | newp.byteOffset) & 3) === 0 && size >= 64 ? size >> 2 : 0;
  const ow = wordsOf(oldp, words);
  const nw = wordsOf(newp, words);
  if (ow !== null && nw !== null && (size & 31) === 0) return encodeBlocks(newp, ow, nw, out, limit);
  let i = 0;
  let o = 0;
  for (;;) {
    const zStart = i;
    i = zeroRunEnd(oldp, newp, ow, nw, i);
    if (i === size) return o; // no trailing zero run
    const z = i - zStart;
    const zs = ulebSize(z);
    const room = limit - o;
    if (room < zs + 2) return -1;
    // Scan no further than the limit allows, so hopeless pages stop early.
    const cap = room - zs - 1;
    const nStart = i;
    i = dataRunEnd(oldp, newp, ow, nw, i, Math.min(size, i + cap + 1));
    const n = i - nStart;
    if (n > cap) return -1;
    o = putPair(out, o, limit, z, n, newp, nStart);
    if (o < 0) return -1;
  }
}

/** Validates without writing: the bytes covered, or a packed rejection. */
export function decodeCheck(d: Uint8Array, size: number): number {
  const s = d.length;
  let i = 0;
  let pos = 0;
  while (i < s) {
    if (s - i < 2) return packRejection(TRUNCATED, i);
    let b0 = d[i];
    let z = b0;
    let k = 1;
    if (b0 >= 0x80) {
      if (d[i + 1] >= 0x80) return packRejection(ULEB_TOO_LONG, i);
      z = (b0 & 0x7f) | (d[i + 1] << 7);
      k = 2;
    }
    if (i !== 0 && z === 0) return packRejection(EMPTY_ZERO_RUN, i);
    if (z > size - pos) return packRejection(PAST_PAGE, i);
    i += k;
    pos += z;
    if (s - i < 2) return packRejection(TRUNCATED, i);
    b0 = d[i];
    let n = b0;
    k = 1;
    if (b0 >= 0x80) {
      if (d[i + 1] >= 0x80) return packRejection(ULEB_TOO_LONG, i);
      n = (b0 & 0x7f) | (d[i + 1] << 7);
      k = 2;
    }
    if (n === 0) return packRejection(EMPTY_DATA_RUN, i);
    if (n > size - pos) return packRejection(PAST_PAGE, i);
    if (n > s - i - k) return packRejection(PAST_INPUT, i);
    i += k + n;
    pos += n;
  }
  return pos;
}

/** Applies d to page in place after validating it: covered bytes or a packed rejection. */
export function decodeInto(d: Uint8Array, page: Uint8Array): number {
  const covered = decodeCheck(d, page.length);
  if (covered < 0) return covered;
  // The apply pass checks every bound again, as native/core/decode.cc does: d may
  // be shared memory another thread rewrites after the check, and then this
  // must stop (whatever was read is applied), not loop or throw.
  const s = d.length;
  const size = page.length;
  let i = 0;
  let pos = 0;
  while (s - i >= 2) {
    let b = d[i];
    let z = b;
    if (b >= 0x80) {
      if (d[i + 1] >= 0x80) break;
      z = (b & 0x7f) | (d[++i] << 7);
    }
    i++;
    if (z > size - pos || s - i < 2) break;
    pos += z;
    b = d[i];
    let n = b;
    if (b >= 0x80) {
      if (d[i + 1] >= 0x80) break;
      n = (b & 0x7f) | (d[++i] << 7);
    }
    i++;
    if (n === 0 || n > size - pos || n > s - i) break;
    if (n < 32) for (let k = 0; k < n; k++) page[pos++] = d[i++];
    else {
      page.set(d.subarray(i, i + n), pos); // a view per run only pays for long runs
      i += n;
      pos += n;
    }
  }
  return covered;
}
