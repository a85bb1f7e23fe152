// codec.ts: encode and decode of one page, with the argument checks.
import { backend } from '../backend/kernels';
import { MAX_PAGE_SIZE, checkBytes, checkInteger, checkOptions, checkPage } from '../util/checks';
import { rejection } from '../util/errors';

/** QEMU's default target page size. */
export const PAGE_SIZE = 4096;

export interface EncodeOptions {
  /** Longest delta accepted, in bytes; default and maximum: the page length. */
  limit?: number;
}

// encode() writes here first, then copies out just the delta, so a short
// delta does not pin a page-sized allocation.
const scratch = Buffer.allocUnsafe(MAX_PAGE_SIZE);

function checkPair(oldPage: unknown, newPage: unknown): asserts oldPage is Uint8Array {
  checkPage(oldPage, 'oldPage');
  checkPage(newPage, 'newPage');
  if (oldPage.length !== newPage.length) {
    throw new RangeError(
      `The "oldPage" and "newPage" arguments must have the same length, received ${oldPage.length} and ${newPage.length} bytes`,
    );
  }
}

// True when two views share memory (same ArrayBuffer, intersecting ranges).
function overlaps(a: Uint8Array, b: Uint8Array): boolean {
  return (
    a.buffer === b.buffer &&
    a.byteOffset < b.byteOffset + b.byteLength &&
    b.byteOffset < a.byteOffset + a.byteLength
  );
}

// Reads options.limit, the only call that can run user code (a getter), so
// callers do it before checking the pages: a getter that detaches or shrinks
// a page is then caught by the checks instead of reaching the backend.
function limitOption(options: EncodeOptions | undefined): unknown {
  checkOptions(options);
  return options?.limit;
}

function limitOf(limit: unknown, pageLength: number): number {
  if (limit === undefined) return pageLength;
  checkInteger(limit, 'limit', 0, pageLength);
  return limit;
}

/**
 * The canonical XBZRLE delta of newPage against oldPage: an empty Buffer when
 * they are equal, null when the delta would be longer than `limit`.
 */
export function encode(oldPage: Uint8Array, newPage: Uint8Array, options?: EncodeOptions): Buffer | null {
  const option = limitOption(options);
  checkPair(oldPage, newPage);
  const limit = limitOf(option, oldPage.length);
  const n = backend().encodeInto(oldPage, newPage, scratch, limit);
  if (n < 0) return null;
  return Buffer.from(scratch.subarray(0, n));
}

/**
 * Writes the delta into `out` and returns its length: 0 when unchanged, -1 on
 * overflow. The limit is min(options.limit ?? page length, out.length);
 * nothing is ever written past it.
 */
export function encodeInto(
  oldPage: Uint8Array,
  newPage: Uint8Array,
  out: Uint8Array,
  options?: EncodeOptions,
): number {
  const option = limitOption(options);
  checkPair(oldPage, newPage);
  checkBytes(out, 'out');
  const limit = Math.min(limitOf(option, oldPage.length), out.length);
  if (overlaps(out, oldPage) || overlaps(out, newPage)) {
    // The kernels read the pages while they write `out`: encode into
    // scratch, then copy, so the result is that of the pages as passed.
    const n = backend().encodeInto(oldPage, newPage, scratch, limit);
    if (n > 0) out.set(scratch.subarray(0, n));
    return n;
  }
  return backend().encodeInto(oldPage, newPage, out, limit);
}

/**
 * Applies `delta` to `page` in place and returns the bytes it covers (the
 * offset just past its last changed run). A malformed delta throws an
 * XbzrleError and leaves the page as it was.
 */
export function decodeInto(delta: Uint8Array, page: Uint8Array): number {
  checkBytes(delta, 'delta');
  checkPage(page, 'page');
  // A delta inside the page's own memory would be overwritten by its own
  // runs while it is applied (the native decoder then reads lengths it never
  // validated): apply a copy, as TypedArray#set does with overlapping views.
  // (Not delta.slice(): on a Buffer that is a view, not a copy.)
  if (overlaps(delta, page)) delta = new Uint8Array(delta);
  const r = backend().decodeInto(delta, page);
  if (r < 0) throw rejection(r);
  return r;
}

/** A new page: `delta` applied to a copy of `oldPage`. */
export function decode(oldPage: Uint8Array, delta: Uint8Array): Buffer {
  checkPage(oldPage, 'oldPage');
  checkBytes(delta, 'delta');
  const page = Buffer.from(oldPage);
  decodeInto(delta, page);
  return page;
}
