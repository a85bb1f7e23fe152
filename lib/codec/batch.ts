// batch.ts: encode and decode of many pages in one call (the hot path: one
// crossing into the addon per batch, not per page), with the argument checks
// that the async forms share.
import { backend } from '../backend/kernels';
import { MAX_PAGE_SIZE, checkBytes, checkInt32Array, checkInteger, checkOptions, checkUint32Array, overlaps } from '../util/checks';
import { batchRejection } from '../util/errors';
import { PAGE_SIZE } from './page';

/** Options every batch function takes. */
export interface PagesOptions {
  /** Page length in bytes, 1 to 16384; default 4096. */
  pageSize?: number;
  /**
   * Scatter-gather: the batch is these page numbers of the page buffer
   * (`newPages` for encodePages, `pages` for decodePages), which may then be
   * any number of pages, for example a whole guest RAM image. Entry k is
   * page k of the batch; without it the buffer is the batch, page after page.
   */
  indexes?: Uint32Array;
}

/** Options of {@link encodePages}. */
export interface EncodePagesOptions extends PagesOptions {
  /** Longest delta accepted per page, in bytes: 0 to pageSize, default pageSize. */
  limit?: number;
  /**
   * Page numbers in `oldPages`, one per page of the batch (for example cache
   * slots); without it `oldPages` holds exactly the batch, page after page.
   */
  oldIndexes?: Uint32Array;
  /**
   * Where to write the deltas, reused from call to call so a steady sender
   * allocates nothing. It must hold pages × limit bytes, the worst case; a
   * smaller one is a RangeError before anything is written (so a result
   * never depends on the order pages are encoded in, or on threads).
   */
  out?: Uint8Array;
  /** Reused table for the offsets: at least one entry per page. */
  offsets?: Uint32Array;
  /** Reused table for the lengths: at least one entry per page. */
  lengths?: Int32Array;
}

/** Options of {@link decodePages}. */
export type DecodePagesOptions = PagesOptions;

/**
 * The deltas of a batch, packed back to back. Page k's delta is
 * `data.subarray(offsets[k], offsets[k] + lengths[k])` when lengths[k] > 0;
 * lengths[k] is 0 for an unchanged page and -1 for an overflow (send the page
 * raw). offsets is non-decreasing and offsets[k] + max(lengths[k], 0) is
 * offsets[k + 1], so `data.length` is the end of the last delta.
 */
export interface EncodedPages {
  /**
   * The deltas: a view of `out` when one was passed. Otherwise a new Buffer;
   * from the async forms it views the pages × limit allocation the call
   * made, so copy it (or pass `out`) to keep many results for long.
   */
  data: Buffer;
  /** Where each page's delta starts in data (the `offsets` passed, or a view of it). */
  offsets: Uint32Array;
  /** Each page's delta length, 0 unchanged, -1 overflow (the `lengths` passed, or a view). */
  lengths: Int32Array;
}

/** A checked encodePages call, ready for a backend (internal). */
export interface EncodePlan {
  oldPages: Uint8Array;
  newPages: Uint8Array;
  oldIndexes: Uint32Array | null;
  indexes: Uint32Array | null;
  pageSize: number;
  limit: number;
  out: Uint8Array;
  outGiven: boolean;
  /** out is the shared scratch buffer (sync calls without `out`). */
  scratch: boolean;
  offsets: Uint32Array;
  lengths: Int32Array;
  count: number;
}

/** A checked decodePages call, ready for a backend (internal). */
export interface DecodePlan {
  deltas: Uint8Array;
  offsets: Uint32Array;
  lengths: Int32Array;
  pages: Uint8Array;
  indexes: Uint32Array | null;
  pageSize: number;
  count: number;
}

// Offsets are 32-bit: the worst case output must stay below 4 GiB.
const MAX_OUT = 2 ** 32;

// Without `out`, a sync call encodes into one scratch buffer kept from call
// to call, then copies the bytes written into a Buffer of their size: a
// fresh worst-case buffer per call cost 25-250 ns a page (page faults and
// the collector's external-memory accounting; docs/PERFORMANCE.md). Held
// weakly, so a program that stops encoding gets the memory back. Safe to
// share: nothing runs between filling it and copying out of it.
const SCRATCH_MAX = 16 * 1024 * 1024;
let scratchRef: WeakRef<Buffer> | undefined;

function scratchFor(need: number): Buffer {
  let s = scratchRef?.deref();
  if (s === undefined || s.length < need) {
    s = Buffer.allocUnsafeSlow(need);
    scratchRef = new WeakRef(s);
  }
  return s;
}

function pageSizeOf(options: PagesOptions | undefined): number {
  const pageSize = options?.pageSize ?? PAGE_SIZE;
  checkInteger(pageSize, 'pageSize', 1, MAX_PAGE_SIZE);
  return pageSize;
}

function wholePages(buf: Uint8Array, name: string, pageSize: number): number {
  if (buf.length % pageSize !== 0) {
    throw new RangeError(
      `The "${name}" argument must be a whole number of ${pageSize}-byte pages, received ${buf.length} bytes`,
    );
  }
  return buf.length / pageSize;
}

function checkIndexes(indexes: Uint32Array, name: string, pages: number, bufName: string): void {
  for (let k = 0; k < indexes.length; k++) {
    if (indexes[k] >= pages) {
      throw new RangeError(
        `The "${name}" option names page ${indexes[k]} at entry ${k}, but "${bufName}" holds ${pages} pages`,
      );
    }
  }
}

// The batch's pages in `buf`: picked by an index list, or the whole buffer.
function pickPages(
  buf: Uint8Array,
  bufName: string,
  indexes: unknown,
  indexesName: string,
  pageSize: number,
): Uint32Array | null {
  const pages = wholePages(buf, bufName, pageSize);
  if (indexes === undefined) return null;
  checkUint32Array(indexes, indexesName, 'option');
  checkIndexes(indexes, indexesName, pages, bufName);
  return indexes;
}

// The batch an options bag describes over its page buffer: the page size,
// the index list (or null) and the page count.
function batchOf(
  buf: Uint8Array,
  bufName: string,
  options: PagesOptions | undefined,
): { pageSize: number; indexes: Uint32Array | null; count: number } {
  checkOptions(options);
  const pageSize = pageSizeOf(options);
  const indexes = pickPages(buf, bufName, options?.indexes, 'indexes', pageSize);
  return { pageSize, indexes, count: indexes ? indexes.length : buf.length / pageSize };
}

function table<T extends Uint32Array | Int32Array>(given: T | undefined, count: number, name: string, make: (n: number) => T): T {
  if (given === undefined) return make(count);
  if (given.length < count) {
    throw new RangeError(
      `The "${name}" option must have at least one entry per page (${count}), received ${given.length}`,
    );
  }
  return given.length === count ? given : (given.subarray(0, count) as T);
}

/**
 * Checks an encodePages call and prepares its output (internal). With
 * `scratch` (a call that copies its result out before returning), a missing
 * `out` is the shared scratch buffer.
 */
export function planEncode(
  oldPages: unknown,
  newPages: unknown,
  options: EncodePagesOptions | undefined,
  scratch = false,
): EncodePlan {
  checkBytes(oldPages, 'oldPages');
  checkBytes(newPages, 'newPages');
  const { pageSize, indexes, count } = batchOf(newPages, 'newPages', options);
  const oldIndexes = pickPages(oldPages, 'oldPages', options?.oldIndexes, 'oldIndexes', pageSize);
  if (oldIndexes ? oldIndexes.length !== count : oldPages.length !== count * pageSize) {
    throw new RangeError(
      oldIndexes
        ? `The "oldIndexes" option must have one entry per page (${count}), received ${oldIndexes.length}`
        : `The "oldPages" argument must hold the ${count} pages of the batch (${count * pageSize} bytes), received ${oldPages.length} bytes`,
    );
  }
  const limit = options?.limit ?? pageSize;
  checkInteger(limit, 'limit', 0, pageSize);
  const need = count * limit;
  if (need > MAX_OUT) {
    throw new RangeError(
      `The batch may need ${need} bytes (pages × limit), more than 32-bit offsets address; split it`,
    );
  }
  let out: Uint8Array;
  let fromScratch = false;
  const outGiven = options?.out !== undefined;
  if (outGiven) {
    checkBytes(options!.out, 'out', 'option');
    out = options!.out;
    if (out.length < need) {
      throw new RangeError(
        `The "out" option must hold at least ${count} pages × limit ${limit} = ${need} bytes (the worst case), received ${out.length} bytes`,
      );
    }
    // The kernels read the pages while they write deltas: a shared byte
    // would be read after it was overwritten (wrong deltas, no error).
    for (const [pages, name] of [
      [newPages, 'newPages'],
      [oldPages, 'oldPages'],
    ] as const) {
      if (overlaps(out, pages)) {
        throw new RangeError(`The "out" option must not share memory with the "${name}" argument; pass a separate buffer`);
      }
    }
  } else {
    fromScratch = scratch && need <= SCRATCH_MAX;
    out = fromScratch ? scratchFor(need) : Buffer.allocUnsafe(need);
  }
  if (options?.offsets !== undefined) checkUint32Array(options.offsets, 'offsets', 'option');
  if (options?.lengths !== undefined) checkInt32Array(options.lengths, 'lengths', 'option');
  const offsets = table(options?.offsets, count, 'offsets', (n) => new Uint32Array(n));
  const lengths = table(options?.lengths, count, 'lengths', (n) => new Int32Array(n));
  return { oldPages, newPages, oldIndexes, indexes, pageSize, limit, out, outGiven, scratch: fromScratch, offsets, lengths, count };
}

/**
 * The result of a plan once `total` bytes of deltas sit in its out
 * (internal). Without a caller's out, `trim` copies the deltas out of the
 * worst-case allocation when they use less than half of it; the async forms
 * pass false, so the event loop never copies a large result. The sync
 * scratch buffer follows the same rule: copied out of, or handed over (and
 * forgotten) when the deltas fill half of it or more.
 */
export function encodeResult(plan: EncodePlan, total: number, trim = true): EncodedPages {
  const { out } = plan;
  let data: Buffer;
  if (plan.outGiven) {
    // subarray of a Buffer is a Buffer, and cheaper than Buffer.from(buffer, …).
    data = Buffer.isBuffer(out) ? out.subarray(0, total) : Buffer.from(out.buffer, out.byteOffset, total);
  } else if (trim && total * 2 < out.length) {
    data = Buffer.from(out.subarray(0, total));
  } else {
    data = (out as Buffer).subarray(0, total);
    if (plan.scratch) scratchRef = undefined; // the result owns it now
  }
  return { data, offsets: plan.offsets, lengths: plan.lengths };
}

/** Checks a decodePages call (internal). */
export function planDecode(
  deltas: unknown,
  offsets: unknown,
  lengths: unknown,
  pages: unknown,
  options: DecodePagesOptions | undefined,
): DecodePlan {
  checkBytes(deltas, 'deltas');
  checkUint32Array(offsets, 'offsets');
  checkInt32Array(lengths, 'lengths');
  checkBytes(pages, 'pages');
  const { pageSize, indexes, count } = batchOf(pages, 'pages', options);
  for (const [t, name] of [
    [offsets, 'offsets'],
    [lengths, 'lengths'],
  ] as const) {
    if (t.length !== count) {
      throw new RangeError(`The "${name}" argument must have one entry per page (${count}), received ${t.length}`);
    }
  }
  for (let k = 0; k < count; k++) {
    const len = lengths[k];
    if (len < -1) {
      throw new RangeError(`The "lengths" argument must hold -1, 0 or a delta length; lengths[${k}] is ${len}`);
    }
    if (len > 0 && offsets[k] + len > deltas.length) {
      throw new RangeError(
        `The delta of page ${k} (offsets[${k}] = ${offsets[k]}, lengths[${k}] = ${len}) runs past the end of "deltas" (${deltas.length} bytes)`,
      );
    }
  }
  return { deltas, offsets, lengths, pages, indexes, pageSize, count };
}

/** Throws the batch's XbzrleError when a backend reported rejections (internal). */
export function decodeResult(fails: number[] | null): void {
  if (fails && fails.length > 0) throw batchRejection(fails);
}

/**
 * Encodes a batch of pages in one call: page k of `newPages` against page k
 * of `oldPages` (or the pages `indexes` / `oldIndexes` pick), the deltas
 * packed back to back. Each delta is byte for byte what {@link encodeInto}
 * gives for that page with the same limit.
 *
 * @param oldPages - The copies the receiver has: N pages back to back, or
 *   any number of pages picked by `options.oldIndexes`.
 * @param newPages - The current pages: N pages back to back, or any number
 *   of pages picked by `options.indexes` (a guest RAM image, for example).
 * @throws TypeError for an argument of the wrong type; RangeError for a
 *   wrong size (a buffer that is not whole pages, an `out` smaller than
 *   pages × limit, an index past the end of its buffer).
 */
export function encodePages(oldPages: Uint8Array, newPages: Uint8Array, options?: EncodePagesOptions): EncodedPages {
  const p = planEncode(oldPages, newPages, options, true);
  const total = backend().encodePages(
    p.oldPages,
    p.newPages,
    p.oldIndexes,
    p.indexes,
    p.pageSize,
    p.limit,
    p.out,
    p.offsets,
    p.lengths,
  );
  return encodeResult(p, total);
}

/**
 * Applies a batch of deltas in place: delta k (`deltas.subarray(offsets[k],
 * offsets[k] + lengths[k])`) onto page k of `pages`, or onto the page
 * `indexes[k]` names. Entries with length 0 (unchanged) or -1 (overflow: the
 * page came raw) are skipped. The tables are those {@link encodePages}
 * returns, with exactly one entry per page.
 *
 * A malformed delta leaves its own page untouched; every valid delta of the
 * batch is still applied. Then an {@link XbzrleError} is thrown for the
 * first rejected page (`page`, `offset`, `reason`), with every rejection of
 * the batch in its `errors` array.
 *
 * @throws TypeError / RangeError for bad arguments, before any page is
 *   written (an entry past the end of `deltas` is one); XbzrleError as above.
 */
export function decodePages(
  deltas: Uint8Array,
  offsets: Uint32Array,
  lengths: Int32Array,
  pages: Uint8Array,
  options?: DecodePagesOptions,
): void {
  const p = planDecode(deltas, offsets, lengths, pages, options);
  decodeResult(backend().decodePages(p.deltas, p.offsets, p.lengths, p.pages, p.indexes, p.pageSize));
}
