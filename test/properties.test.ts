// Property tests: every kernel against the naive reference encoder, and the
// addon against the twin, on page pairs of many shapes and sizes.
import fc from 'fast-check';
import { decode, encode, encodeInto, kernel, useKernel } from '../lib';
import { eachKernel } from './helpers/kernels';
import { referenceEncode } from './helpers/reference';

const SEED = Number(process.env.FC_SEED ?? 20261125);
const RUNS = Number(process.env.FC_RUNS ?? 300);

/** A page pair: a base page and a new page made by one of several shapes of change. */
const pagePair = fc
  .record({
    size: fc.oneof(
      fc.constantFrom(1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 4095, 4096, 16384),
      fc.integer({ min: 1, max: 16384 }),
      fc.integer({ min: 2, max: 512 }).map((k) => 32 * k),
    ),
    shape: fc.constantFrom('random', 'runs', 'sparse', 'dense', 'alternate', 'all', 'none', 'edges'),
    seed: fc.integer(),
    density: fc.double({ min: 0, max: 1, noNaN: true }),
    // Aligned views often (the twin's block walk needs both 4-byte aligned
    // and a multiple of 32 bytes), unaligned ones as often.
    offset: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 15 })),
    offset2: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 15 })),
  })
  .map(({ size, shape, seed, density, offset, offset2 }) => {
    let s = seed >>> 0;
    const rand = (): number => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s / 4294967296;
    };
    // Views at any byte offsets, aligned or not: kernels must not assume alignment.
    const oldPage = new Uint8Array(new ArrayBuffer(size + 16), offset, size);
    const newPage = new Uint8Array(new ArrayBuffer(size + 16), offset2, size);
    for (let i = 0; i < size; i++) oldPage[i] = (rand() * 256) | 0;
    newPage.set(oldPage);
    const flip = (i: number): void => {
      newPage[i] = (oldPage[i] + 1 + ((rand() * 255) | 0)) & 0xff;
    };
    switch (shape) {
      case 'random':
        for (let i = 0; i < size; i++) if (rand() < density) flip(i);
        break;
      case 'runs':
        for (let i = 0; i < size; ) {
          const len = 1 + ((rand() * 300) | 0);
          if (rand() < density) for (let k = i; k < Math.min(size, i + len); k++) flip(k);
          i += len;
        }
        break;
      case 'sparse':
        for (let k = 0; k < 16; k++) flip((rand() * size) | 0);
        break;
      case 'dense':
        for (let i = 0; i < size; i++) if (rand() < 0.5) flip(i);
        break;
      case 'alternate':
        for (let i = 0; i < size; i += 2) flip(i);
        break;
      case 'all':
        for (let i = 0; i < size; i++) flip(i);
        break;
      case 'edges':
        flip(0);
        flip(size - 1);
        break;
      case 'none':
        break;
    }
    return { oldPage, newPage };
  });

eachKernel((name) => {
  test('encode equals the reference; overflow exactly past the canonical length; nothing written past the limit', () => {
    fc.assert(
      fc.property(pagePair, fc.integer({ min: -3, max: 3 }), ({ oldPage, newPage }, delta) => {
        const want = referenceEncode(oldPage, newPage);
        const size = oldPage.length;
        const fits = want.length <= size;
        const got = encode(oldPage, newPage);
        if (fits) {
          if (!got || !got.equals(want)) return false;
        } else if (got !== null) return false;
        // Limits around the canonical length, with guard bytes after the limit.
        const limit = Math.max(0, Math.min(size, want.length + delta));
        const out = new Uint8Array(limit + 32).fill(0xee);
        const n = encodeInto(oldPage, newPage, out.subarray(0, limit));
        if (want.length <= limit ? n !== want.length : n !== -1) return false;
        for (let i = limit; i < out.length; i++) if (out[i] !== 0xee) return false;
        if (n > 0 && !Buffer.from(out.subarray(0, n)).equals(want)) return false;
        // Round trip.
        return !fits || Buffer.from(decode(oldPage, want)).equals(Buffer.from(newPage));
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  if (name !== 'js') {
    test('addon and twin emit the same bytes', () => {
      fc.assert(
        fc.property(pagePair, fc.integer({ min: 0, max: 16384 }), ({ oldPage, newPage }, lim) => {
          const limit = Math.min(lim, oldPage.length);
          const a = new Uint8Array(limit);
          const na = encodeInto(oldPage, newPage, a);
          useKernel('js');
          const b = new Uint8Array(limit);
          const nb = encodeInto(oldPage, newPage, b);
          useKernel(name);
          // Only the delta itself is compared: a kernel may use out as scratch
          // up to the limit (never past it; the guard-byte test holds that).
          return kernel() === name && na === nb && Buffer.from(a.subarray(0, Math.max(na, 0))).equals(Buffer.from(b.subarray(0, Math.max(nb, 0))));
        }),
        { seed: SEED + 1, numRuns: RUNS },
      );
    });
  }
});

// The twin's block walk (aligned views, whole 32-byte blocks) on many more
// pairs than the properties draw, against the reference encoder: every
// density, runs that cross blocks, and limits around the canonical length.
test('the twin block walk equals the reference on 3000 aligned pairs', () => {
  const before = kernel();
  useKernel('js');
  try {
    let s = 20261203;
    const rand = (): number => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s / 4294967296;
    };
    const densities = [0, 0.002, 0.03, 0.1, 0.5, 0.9, 1];
    let checked = 0;
    for (let it = 0; it < 3000; it++) {
      const size = 32 * (2 + Math.floor(rand() * (it % 10 === 0 ? 510 : 30)));
      const oldPage = new Uint8Array(size);
      for (let i = 0; i < size; i++) oldPage[i] = (rand() * 256) | 0;
      const newPage = Uint8Array.from(oldPage);
      if (it % 5 === 0) {
        const a = (rand() * size) | 0;
        for (let i = a; i < Math.min(size, a + ((rand() * 700) | 0)); i++) newPage[i] ^= 1 + ((rand() * 255) | 0);
      } else {
        const p = densities[it % densities.length];
        for (let i = 0; i < size; i++) if (rand() < p) newPage[i] ^= 1 + ((rand() * 255) | 0);
      }
      const want = referenceEncode(oldPage, newPage);
      const limit = Math.max(0, Math.min(size, want.length + ((rand() * 7) | 0) - 3));
      const out = new Uint8Array(limit);
      const n = encodeInto(oldPage, newPage, out);
      expect([it, n]).toEqual([it, want.length <= limit ? want.length : -1]);
      if (n > 0) expect(Buffer.from(out.subarray(0, n)).equals(want)).toBe(true);
      checked++;
    }
    expect(checked).toBe(3000);
  } finally {
    useKernel(before);
  }
});
