// errors.ts: the error a malformed delta raises, and the argument checks every
// public function shares (TypeError for a wrong type, RangeError for a size).
import { isInt32Array, isUint32Array, isUint8Array } from 'node:util/types';

export const MAX_PAGE_SIZE = 16384;

/** Why a delta was rejected; the codes match native/core/xbzrle.h `Reject`. */
export type XbzrleReason =
  | 'truncated'
  | 'uleb128-too-long'
  | 'empty-zero-run'
  | 'empty-changed-run'
  | 'run-past-page'
  | 'run-past-input'
  | 'delta-overlaps-page';

const REASONS: readonly XbzrleReason[] = [
  'truncated', // 0 is unused; 1..6 follow the native enum
  'truncated',
  'uleb128-too-long',
  'empty-zero-run',
  'empty-changed-run',
  'run-past-page',
  'run-past-input',
  'delta-overlaps-page',
];

const EXPLAIN: Record<XbzrleReason, string> = {
  truncated: 'the delta ends inside a run pair',
  'uleb128-too-long': 'a run length needs more than two ULEB128 bytes',
  'empty-zero-run': 'an unchanged run of length 0 after the first pair',
  'empty-changed-run': 'a changed run of length 0',
  'run-past-page': 'a run goes past the end of the page',
  'run-past-input': 'a changed run goes past the end of the delta',
  'delta-overlaps-page': "the delta lies in the page's own memory",
};

/** A malformed delta. The page it was applied to is unchanged. */
export class XbzrleError extends Error {
  readonly code = 'ERR_XBZRLE_MALFORMED';
  /** Byte offset in the delta where the bad element starts. */
  readonly offset: number;
  readonly reason: XbzrleReason;
  /** Index of the page in a batch, when the delta came from one. */
  readonly page?: number;
  /**
   * From decodePages and decodePagesAsync: every rejected delta of the batch,
   * in page order, each with its `page`. This error repeats the first one.
   */
  readonly errors?: readonly XbzrleError[];

  constructor(reason: XbzrleReason, offset: number, page?: number, errors?: readonly XbzrleError[]) {
    const where = page === undefined ? '' : ` (page ${page})`;
    const more =
      errors && errors.length > 1 ? `; ${errors.length} deltas of the batch were rejected, see .errors` : '';
    super(`malformed XBZRLE delta${where} at byte ${offset}: ${EXPLAIN[reason]}${more}`);
    this.name = 'XbzrleError';
    this.reason = reason;
    this.offset = offset;
    if (page !== undefined) this.page = page;
    if (errors !== undefined) this.errors = errors;
  }
}

/**
 * The rejections of a batch, reported by a backend as [page, packed, ...]:
 * an XbzrleError for the first, carrying all of them in `errors`.
 */
export function batchRejection(flat: readonly number[]): XbzrleError {
  const errors: XbzrleError[] = [];
  for (let i = 0; i < flat.length; i += 2) errors.push(rejection(flat[i + 1], flat[i]));
  const first = errors[0];
  return new XbzrleError(first.reason, first.offset, first.page, Object.freeze(errors));
}

/**
 * An async batch stopped by its AbortSignal: `name` is 'AbortError' and
 * `code` 'ABORT_ERR', as for Node's own APIs; `cause` is the signal's reason.
 */
export class AbortError extends Error {
  readonly code = 'ABORT_ERR';

  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AbortError';
  }
}

export function abortError(signal: AbortSignal): AbortError {
  return new AbortError(undefined, { cause: signal.reason });
}

/**
 * Backends report a rejection as -(reason + 8 * offset), a number that
 * crosses Node-API without allocating; this turns it into an XbzrleError.
 */
export function rejection(packed: number, page?: number): XbzrleError {
  const v = -packed;
  const code = v % 8;
  return new XbzrleError(REASONS[code] ?? 'truncated', (v - code) / 8, page);
}

export function packRejection(code: number, offset: number): number {
  return -(code + 8 * offset);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object' || typeof v === 'function') {
    const name = (v as { constructor?: { name?: string } }).constructor?.name;
    return name ? `an instance of ${name}` : 'an object';
  }
  if (typeof v === 'string') return `a string`;
  return `type ${typeof v} (${String(v)})`;
}

function isDetached(v: Uint8Array): boolean {
  if (v.byteLength !== 0) return false;
  try {
    new Uint8Array(v.buffer, 0, 0);
    return false;
  } catch {
    return true;
  }
}

/** Throws unless v is a Uint8Array (Buffer is one) that is not detached. */
export function checkBytes(v: unknown, name: string, what = 'argument'): asserts v is Uint8Array {
  // instanceof is the fast path; isUint8Array also accepts other realms' arrays.
  if (!(v instanceof Uint8Array) && !isUint8Array(v)) {
    throw new TypeError(`The "${name}" ${what} must be a Uint8Array or Buffer, received ${describe(v)}`);
  }
  if (isDetached(v)) {
    throw new TypeError(`The "${name}" ${what} is backed by a detached ArrayBuffer`);
  }
}

/** Throws unless v is a Uint32Array (an index or offset table). */
export function checkUint32Array(v: unknown, name: string, what = 'argument'): asserts v is Uint32Array {
  if (!isUint32Array(v)) {
    throw new TypeError(`The "${name}" ${what} must be a Uint32Array, received ${describe(v)}`);
  }
}

/** Throws unless v is an Int32Array (a lengths table). */
export function checkInt32Array(v: unknown, name: string, what = 'argument'): asserts v is Int32Array {
  if (!isInt32Array(v)) {
    throw new TypeError(`The "${name}" ${what} must be an Int32Array, received ${describe(v)}`);
  }
}

/** Throws unless v is undefined or an AbortSignal. */
export function checkSignal(v: unknown): asserts v is AbortSignal | undefined {
  // Duck-typed: a signal from another realm (vm, jsdom) is still a signal.
  const s = v as AbortSignal | undefined;
  if (
    s !== undefined &&
    (s === null || typeof s !== 'object' || typeof s.aborted !== 'boolean' || typeof s.addEventListener !== 'function')
  ) {
    throw new TypeError(`The "signal" option must be an AbortSignal, received ${describe(v)}`);
  }
}

/** Throws unless v is a page: a Uint8Array of 1 to 16384 bytes. */
export function checkPage(v: unknown, name: string): asserts v is Uint8Array {
  checkBytes(v, name);
  if (v.length === 0 || v.length > MAX_PAGE_SIZE) {
    throw new RangeError(
      `The "${name}" argument must be 1 to ${MAX_PAGE_SIZE} bytes long, received ${v.length} bytes`,
    );
  }
}

/** Throws unless v is an integer in [min, max]. */
export function checkInteger(v: unknown, name: string, min: number, max: number): asserts v is number {
  if (typeof v !== 'number') {
    throw new TypeError(`The "${name}" option must be a number, received ${describe(v)}`);
  }
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`The "${name}" option must be an integer from ${min} to ${max}, received ${v}`);
  }
}

export function checkOptions(v: unknown, name = 'options'): void {
  if (v !== undefined && (v === null || typeof v !== 'object')) {
    throw new TypeError(`The "${name}" argument must be an object, received ${describe(v)}`);
  }
}
