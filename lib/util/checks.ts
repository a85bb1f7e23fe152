// checks.ts: every argument check of the public API, in one message style:
// `The "NAME" argument|option must be WHAT, received DESCRIPTION`. A wrong
// type is a TypeError, a wrong value or size a RangeError. An address is a
// byte offset: a number up to 2^53 - 1 or a bigint up to 2^64 - 1 (QEMU's
// ram_addr_t is 64 bits).
import { isInt32Array, isUint32Array, isUint8Array } from 'node:util/types';

export const MAX_PAGE_SIZE = 16384;

/** A byte offset of a page: a safe integer or a bigint below 2^64. */
export type Address = number | bigint;

/** Whether a name is a function's argument or a field of its options. */
export type ArgKind = 'argument' | 'option' | 'element';

const U64_MAX = 0xffff_ffff_ffff_ffffn;

/** How a message names a received value, as Node's own argument errors do. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'function') return v.name ? `function ${v.name}` : 'a function';
  if (typeof v === 'object') {
    const name = (v as { constructor?: { name?: string } }).constructor?.name;
    return name ? `an instance of ${name}` : 'an object';
  }
  if (typeof v === 'string') return `type string (${JSON.stringify(v.length > 28 ? `${v.slice(0, 25)}...` : v)})`;
  if (typeof v === 'bigint') return `type bigint (${v}n)`;
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
export function checkBytes(v: unknown, name: string, kind: ArgKind = 'argument'): asserts v is Uint8Array {
  // instanceof is the fast path; isUint8Array also accepts other realms' arrays.
  if (!(v instanceof Uint8Array) && !isUint8Array(v)) {
    throw new TypeError(`The "${name}" ${kind} must be a Uint8Array or Buffer, received ${describe(v)}`);
  }
  if (isDetached(v)) {
    throw new TypeError(`The "${name}" ${kind} must not be backed by a detached ArrayBuffer, received a detached view`);
  }
}

/** Throws unless v is a Uint32Array (an index or offset table). */
export function checkUint32Array(v: unknown, name: string, kind: ArgKind = 'argument'): asserts v is Uint32Array {
  if (!isUint32Array(v)) {
    throw new TypeError(`The "${name}" ${kind} must be a Uint32Array, received ${describe(v)}`);
  }
}

/** Throws unless v is an Int32Array (a lengths table). */
export function checkInt32Array(v: unknown, name: string, kind: ArgKind = 'argument'): asserts v is Int32Array {
  if (!isInt32Array(v)) {
    throw new TypeError(`The "${name}" ${kind} must be an Int32Array, received ${describe(v)}`);
  }
}

/** Throws unless v is undefined or an AbortSignal. */
export function checkSignal(v: unknown): asserts v is AbortSignal | undefined {
  // Only a real AbortSignal (the intrinsic getter's brand check): a
  // look-alike could throw from its methods or never call back, and a
  // promise must not settle while a native job still holds the buffers.
  if (v === undefined) return;
  let real = false;
  try {
    abortedGetter.call(v);
    real = true;
  } catch {
    // not an AbortSignal of this realm
  }
  if (!real) throw new TypeError(`The "signal" option must be an AbortSignal, received ${describe(v)}`);
}

const abortedGetter = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted')!.get!;
const reasonGetter = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'reason')!.get!;

/**
 * A checked signal's state and events through the intrinsics, so own
 * properties a caller put on the signal object run no user code here.
 */
export const signalOps = {
  aborted: (s: AbortSignal): boolean => abortedGetter.call(s) as boolean,
  reason: (s: AbortSignal): unknown => reasonGetter.call(s),
  listen: (s: AbortSignal, fn: () => void): void => EventTarget.prototype.addEventListener.call(s, 'abort', fn, { once: true }),
  unlisten: (s: AbortSignal, fn: () => void): void => EventTarget.prototype.removeEventListener.call(s, 'abort', fn),
};

/** Throws unless v is a page: a Uint8Array of 1 to 16384 bytes. */
export function checkPage(v: unknown, name: string): asserts v is Uint8Array {
  checkBytes(v, name);
  if (v.length === 0 || v.length > MAX_PAGE_SIZE) {
    throw new RangeError(`The "${name}" argument must be 1 to ${MAX_PAGE_SIZE} bytes long, received ${v.length} bytes`);
  }
}

/** Throws unless v is a Uint8Array of exactly `length` bytes. */
export function checkLength(v: unknown, name: string, length: number, kind: ArgKind = 'argument'): asserts v is Uint8Array {
  checkBytes(v, name, kind);
  if (v.length !== length) {
    throw new RangeError(`The "${name}" ${kind} must be ${length} bytes long, received ${v.length} bytes`);
  }
}

/** Throws unless v is an integer in [min, max]; `kind` says argument or option. */
export function checkWhole(
  v: unknown,
  name: string,
  min: number,
  max: number,
  kind: ArgKind = 'argument',
): asserts v is number {
  if (typeof v !== 'number') {
    throw new TypeError(`The "${name}" ${kind} must be a number, received ${describe(v)}`);
  }
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`The "${name}" ${kind} must be an integer from ${min} to ${max}, received ${describe(v)}`);
  }
}

/** An option that is an integer in [min, max] (checkWhole for options). */
export function checkInteger(v: unknown, name: string, min: number, max: number): asserts v is number {
  checkWhole(v, name, min, max, 'option');
}

/** Throws unless v is undefined or an object (an options bag). */
export function checkOptions(v: unknown, name = 'options'): void {
  if (v !== undefined && (v === null || typeof v !== 'object')) {
    throw new TypeError(`The "${name}" argument must be an object, received ${describe(v)}`);
  }
}

/** A RAM block name as a record carries it: 1 to 255 bytes of UTF-8. */
export function checkBlockName(v: unknown, name = 'block', kind: ArgKind = 'argument'): Buffer {
  if (typeof v !== 'string') throw new TypeError(`The "${name}" ${kind} must be a string, received ${describe(v)}`);
  const b = Buffer.from(v, 'utf8');
  if (b.length < 1 || b.length > 255) {
    throw new RangeError(`The "${name}" ${kind} must be 1 to 255 bytes of UTF-8, received ${b.length} bytes`);
  }
  return b;
}

/** Throws unless v is a boolean or undefined. */
export function checkFlag(v: unknown, name: string): void {
  if (v !== undefined && typeof v !== 'boolean') {
    throw new TypeError(`The "${name}" option must be a boolean, received ${describe(v)}`);
  }
}

export function isAddress(v: unknown): v is Address {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0;
  if (typeof v === 'bigint') return v >= 0n && v <= U64_MAX;
  return false;
}

/** Throws TypeError for a non-number/bigint and RangeError for one out of range. */
export function checkAddress(v: unknown, name = 'addr', kind: ArgKind = 'argument'): asserts v is Address {
  if (typeof v !== 'number' && typeof v !== 'bigint') {
    throw new TypeError(`The "${name}" ${kind} must be a number or a bigint, received ${describe(v)}`);
  }
  if (!isAddress(v)) {
    throw new RangeError(
      `The "${name}" ${kind} must be an integer from 0 to 2^53 - 1 (or a bigint below 2^64), received ${describe(v)}`,
    );
  }
}

/** Generations are the dirty-bitmap sync count: integers from 0 to 2^32 - 1. */
export function checkGeneration(v: unknown, name = 'generation'): asserts v is number {
  if (typeof v !== 'number') {
    throw new TypeError(`The "${name}" argument must be a number, received ${describe(v)}`);
  }
  if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) {
    throw new RangeError(`The "${name}" argument must be an integer from 0 to 2^32 - 1, received ${describe(v)}`);
  }
}

/** Addresses of a batch as the native loop reads them: f64 or u64. */
export type AddressArray = Float64Array | BigUint64Array;

/**
 * A batch's addresses as a typed array. Float64Array and BigUint64Array pass
 * through (their elements are checked by the loop); a plain array becomes one
 * of them, every element checked here.
 */
export function toAddressArray(addrs: unknown, name = 'addrs'): AddressArray {
  if (addrs instanceof Float64Array || addrs instanceof BigUint64Array) return addrs;
  if (!Array.isArray(addrs)) {
    throw new TypeError(
      `The "${name}" argument must be an array of addresses, a Float64Array or a BigUint64Array, received ${describe(addrs)}`,
    );
  }
  let big = false;
  for (let i = 0; i < addrs.length; i++) {
    const a: unknown = addrs[i];
    checkAddress(a, `${name}[${i}]`, 'element');
    if (typeof a === 'bigint') big = true;
  }
  if (!big) return Float64Array.from(addrs as number[]);
  const out = new BigUint64Array(addrs.length);
  for (let i = 0; i < addrs.length; i++) out[i] = BigInt(addrs[i] as Address);
  return out;
}

/** The i-th address of a batch as an Address (a number when it is safe). */
export function addressAt(a: AddressArray, i: number): Address {
  const v = a[i];
  if (typeof v === 'number') return v;
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** True when two views share bytes (the same ArrayBuffer, intersecting ranges). */
export function overlaps(a: Uint8Array, b: Uint8Array): boolean {
  return (
    a.buffer === b.buffer &&
    a.length > 0 &&
    b.length > 0 &&
    a.byteOffset < b.byteOffset + b.length &&
    b.byteOffset < a.byteOffset + a.length
  );
}
