// profile/grow.ts: typed arrays indexed by page offset that grow with the
// RAM-offset space (regions can be added while profiling).

type Typed = Int32Array | Uint8Array;

/** Returns `a`, or a copy at least `n` long (doubling) with the old contents. */
export function grow<T extends Typed>(a: T, n: number): T {
  if (a.length >= n) return a;
  let cap = Math.max(1024, a.length);
  while (cap < n) cap *= 2;
  const b = new (a.constructor as new (n: number) => T)(cap);
  b.set(a);
  return b;
}
