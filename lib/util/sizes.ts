// sizes.ts: byte sizes as operators write them ("512M", "2GiB", "10%") and
// as reports print them ("256 MiB"). Binary units throughout, as QEMU's
// xbzrle-cache-size and `free` use.

const UNITS: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };

/**
 * Parses a byte count: a plain number, or a number with a binary unit
 * (K, M, G, T, P; optionally followed by "iB" or "B"; case-insensitive).
 * "512M" and "512MiB" are both 536870912. Throws a RangeError otherwise.
 */
export function parseBytes(text: string | number, what = 'size'): number {
  if (typeof text === 'number') {
    if (!Number.isFinite(text) || text < 0) throw new RangeError(`${what} must be a non-negative number of bytes, received ${text}`);
    return Math.floor(text);
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?\s*$/i.exec(text);
  if (!m) throw new RangeError(`${what}: expected bytes such as 512M, 2G or 1048576, received "${text}"`);
  return Math.floor(Number(m[1]) * UNITS[m[2].toLowerCase()]);
}

/**
 * Parses a memory budget: bytes as in parseBytes, or a percentage of
 * `hostMemory` ("10%"). Returns bytes.
 */
export function parseBudget(text: string | number, hostMemory: number, what = 'budget'): number {
  if (typeof text === 'string' && /%\s*$/.test(text)) {
    const pct = Number(text.trim().slice(0, -1));
    if (!Number.isFinite(pct) || pct <= 0 || pct > 100) throw new RangeError(`${what}: a percentage must be above 0 and at most 100, received "${text}"`);
    return Math.floor((hostMemory * pct) / 100);
  }
  return parseBytes(text, what);
}

/** A rate such as "90%", "0.9" or 90 (taken as percent when above 1) as a fraction in [0, 1]. */
export function parseFraction(text: string | number, what = 'rate'): number {
  const s = String(text).trim();
  const pct = s.endsWith('%');
  let v = Number(pct ? s.slice(0, -1) : s);
  if (pct || v > 1) v /= 100;
  if (!Number.isFinite(v) || v < 0 || v > 1) throw new RangeError(`${what}: expected a fraction (0.9) or a percentage (90%), received "${text}"`);
  return v;
}

/** "256 MiB", "1.5 GiB", "4 KiB", "0 B": at most three significant digits. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = Math.abs(n);
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  const digits = u === 0 || v >= 100 || Number.isInteger(v) ? 0 : v >= 10 ? 1 : 2;
  return `${n < 0 ? '-' : ''}${Number(v.toFixed(digits))} ${units[u]}`;
}

/** A fraction as a percentage with `digits` decimals: 0.712 -> "71.2%". */
export function formatPercent(v: number | null, digits = 1): string {
  return v === null || !Number.isFinite(v) ? 'n/a' : `${(v * 100).toFixed(digits)}%`;
}

/** True for 1, 2, 4, 8, ... (safe integers only). */
export function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/** The smallest power of two >= n (n >= 1). */
export function nextPowerOfTwo(n: number): number {
  let p = floorPowerOfTwo(n);
  if (p < n) p *= 2;
  return Math.max(1, p);
}

/** The largest power of two <= n (1/2, 1/4, ... for fractions), 0 when n <= 0. */
export function floorPowerOfTwo(n: number): number {
  if (!(n > 0)) return 0;
  // log2 can round up just below a power of two: correct by one step.
  let p = 2 ** Math.floor(Math.log2(n));
  if (p > n) p /= 2;
  else if (p * 2 <= n) p *= 2;
  return p;
}
