// checks.ts: argument checks of the cache, budget, sender and record APIs
// (TypeError for a wrong type, RangeError for a wrong value; messages name
// the argument). An address is a byte offset: a number up to 2^53 - 1 or a
// bigint up to 2^64 - 1 (QEMU's ram_addr_t is 64 bits).

/** A byte offset of a page: a safe integer or a bigint below 2^64. */
export type Address = number | bigint;

const U64_MAX = 0xffff_ffff_ffff_ffffn;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return `an instance of ${(v as object).constructor?.name ?? 'Object'}`;
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'string') return 'a string';
  return `type ${typeof v} (${String(v)})`;
}

export function isAddress(v: unknown): v is Address {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0;
  if (typeof v === 'bigint') return v >= 0n && v <= U64_MAX;
  return false;
}

/** Throws TypeError for a non-number/bigint and RangeError for one out of range. */
export function checkAddress(v: unknown, name = 'addr'): asserts v is Address {
  if (typeof v !== 'number' && typeof v !== 'bigint') {
    throw new TypeError(`The "${name}" argument must be a number or a bigint, received ${describe(v)}`);
  }
  if (!isAddress(v)) {
    throw new RangeError(
      `The "${name}" argument must be an integer from 0 to 2^53 - 1 (or a bigint below 2^64), received ${describe(v)}`,
    );
  }
}

/** Generations are the dirty-bitmap sync count: integers from 0 to 2^32 - 1. */
export function checkGeneration(v: unknown, name = 'generation'): asserts v is number {
  if (typeof v !== 'number') {
    throw new TypeError(`The "${name}" argument must be a number, received ${describe(v)}`);
  }
  if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) {
    throw new RangeError(`The "${name}" argument must be an integer from 0 to 2^32 - 1, received ${v}`);
  }
}

/** Throws unless v is an integer in [min, max]; `kind` says argument or option. */
export function checkWhole(
  v: unknown,
  name: string,
  min: number,
  max: number,
  kind: 'argument' | 'option' = 'argument',
): asserts v is number {
  if (typeof v !== 'number') {
    throw new TypeError(`The "${name}" ${kind} must be a number, received ${describe(v)}`);
  }
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`The "${name}" ${kind} must be an integer from ${min} to ${max}, received ${v}`);
  }
}

/** Throws unless v is a boolean or undefined. */
export function checkFlag(v: unknown, name: string): void {
  if (v !== undefined && typeof v !== 'boolean') {
    throw new TypeError(`The "${name}" option must be a boolean, received ${describe(v)}`);
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
    checkAddress(a, `${name}[${i}]`);
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
