// Random batches of page pairs with every kind of change, and the per-page
// results a batch must reproduce byte for byte.
import * as crypto from 'node:crypto';
import { encodeInto, type EncodedPages } from '../../lib';

// A small deterministic generator so failures replay: xorshift32 (no
// Math.imul, which is very slow inside jest's sandbox).
export function rng(seed: number): () => number {
  let s = (seed ^ 0x9e3779b9) >>> 0 || 1;
  const next = (): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  for (let i = 0; i < 8; i++) next(); // spread nearby seeds apart
  return next;
}

export const KINDS = ['same', 'byte', 'end', 'run', 'scatter10', 'random50', 'overflow', 'all'] as const;
export type Kind = (typeof KINDS)[number];

/** Writes into `next` (a copy of `old`) a change of the given kind. */
export function change(rand: () => number, next: Uint8Array, kind: Kind): void {
  const size = next.length;
  const at = (): number => Math.floor(rand() * size);
  const flip = (i: number): void => {
    next[i] = (next[i] + 1 + Math.floor(rand() * 255)) & 0xff;
  };
  switch (kind) {
    case 'same':
      return;
    case 'byte':
      return flip(at());
    case 'end':
      return flip(size - 1);
    case 'run': {
      const start = at();
      const len = 1 + Math.floor(rand() * Math.min(512, size - start));
      for (let i = start; i < start + len; i++) flip(i);
      return;
    }
    case 'scatter10': // about 10% of the bytes, at random places
      for (let n = Math.ceil(size / 10); n > 0; n--) flip(at());
      return;
    case 'random50':
      for (let n = Math.ceil(size / 2); n > 0; n--) flip(at());
      return;
    case 'overflow':
      for (let i = 0; i < size; i += 2) flip(i);
      return;
    case 'all':
      for (let i = 0; i < size; i++) flip(i);
      return;
  }
}

/**
 * Deterministic random bytes from the generator's next value: an AES-CTR
 * keystream, made in native code (a byte loop is slow under jest).
 */
export function fill(rand: () => number, buf: Uint8Array): void {
  const key = Buffer.alloc(16);
  key.writeUInt32LE((rand() * 4294967296) >>> 0, 0);
  const cipher = crypto.createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const bytes = cipher.update(Buffer.alloc(buf.length));
  buf.set(bytes);
}

export interface Batch {
  oldPages: Buffer;
  newPages: Buffer;
  kinds: Kind[];
}

/** `count` contiguous page pairs, each kind of change picked at random. */
export function randomBatch(rand: () => number, count: number, pageSize = 4096): Batch {
  const oldPages = Buffer.alloc(count * pageSize);
  fill(rand, oldPages);
  const newPages = Buffer.from(oldPages);
  const kinds: Kind[] = [];
  for (let k = 0; k < count; k++) {
    const kind = KINDS[Math.floor(rand() * KINDS.length)];
    kinds.push(kind);
    change(rand, newPages.subarray(k * pageSize, (k + 1) * pageSize), kind);
  }
  return { oldPages, newPages, kinds };
}

/** Page k of a buffer, or the page index list picks. */
export function pageOf<T extends Uint8Array>(buf: T, k: number, pageSize: number, indexes?: Uint32Array): T {
  const i = indexes ? indexes[k] : k;
  return buf.subarray(i * pageSize, (i + 1) * pageSize) as T;
}

/** What encodeInto gives page by page: each delta (null on overflow). */
export function perPage(
  oldPages: Uint8Array,
  newPages: Uint8Array,
  count: number,
  pageSize: number,
  limit = pageSize,
  indexes?: Uint32Array,
  oldIndexes?: Uint32Array,
): (Buffer | null)[] {
  const out = Buffer.alloc(pageSize);
  const deltas: (Buffer | null)[] = [];
  for (let k = 0; k < count; k++) {
    const n = encodeInto(pageOf(oldPages, k, pageSize, oldIndexes), pageOf(newPages, k, pageSize, indexes), out, {
      limit,
    });
    deltas.push(n < 0 ? null : Buffer.from(out.subarray(0, n)));
  }
  return deltas;
}

/** The batch's deltas, checking its layout promise on the way. */
export function unpack(r: EncodedPages): (Buffer | null)[] {
  const { data, offsets, lengths } = r;
  expect(offsets.length).toBe(lengths.length);
  const deltas: (Buffer | null)[] = [];
  let at = 0;
  for (let k = 0; k < lengths.length; k++) {
    expect(offsets[k]).toBe(at); // packed back to back, no gap
    const n = lengths[k];
    deltas.push(n < 0 ? null : Buffer.from(data.subarray(at, at + n)));
    if (n > 0) at += n;
  }
  expect(data.length).toBe(at);
  return deltas;
}
