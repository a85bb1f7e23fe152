// Hostile input to every public function of lib/index.ts: always the
// documented error class (TypeError for a wrong type, RangeError for a wrong
// size or number, XbzrleError for a malformed delta), never a crash, and a
// page left untouched whenever decoding throws. The crash-prone groups
// (detached, shared, resizable and overlapping memory, getters, the raw
// binding) run in a child process: see helpers/hostile-cases.ts.
import * as fc from 'fast-check';
import * as path from 'node:path';
import {
  MAX_PAGE_SIZE,
  PAGE_SIZE,
  XbzrleError,
  decode,
  decodeInto,
  encode,
  encodeInto,
  kernel,
  kernels,
  native,
  useKernel,
} from '../lib';
import { runInChild } from './helpers/child';
import type { Row } from './helpers/hostile-cases';
import { eachKernel } from './helpers/kernels';
import { referenceEncode } from './helpers/reference';

const P = PAGE_SIZE;
const cases = path.join(__dirname, 'helpers', 'hostile-cases.ts');

/** The class name of what f throws, or 'ok'. */
function outcome(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    return (e as { constructor?: { name?: string } })?.constructor?.name ?? typeof e;
  }
}

// A deliberately plain decoder written from docs/FORMAT.md §1: the verdict, and the
// page it gives when it accepts.
function referenceDecode(d: Uint8Array, page: Uint8Array): number {
  const S = d.length;
  const len = (i: number): [number, number] | null => {
    if (d[i] < 128) return [d[i], 1];
    if (d[i + 1] >= 128) return null;
    return [(d[i] - 128) + d[i + 1] * 128, 2];
  };
  let i = 0;
  let pos = 0;
  const out = Buffer.from(page);
  while (i < S) {
    if (S - i < 2) return -1;
    const z = len(i);
    if (!z || (i !== 0 && z[0] === 0)) return -1;
    i += z[1];
    pos += z[0];
    if (pos > page.length || S - i < 2) return -1;
    const n = len(i);
    if (!n || n[0] === 0) return -1;
    i += n[1];
    if (pos + n[0] > page.length || i + n[0] > S) return -1;
    for (let k = 0; k < n[0]; k++) out[pos + k] = d[i + k];
    pos += n[0];
    i += n[0];
  }
  page.set(out);
  return pos;
}

// Values that are not a Uint8Array.
const notBytes: [string, () => unknown][] = [
  ['undefined', () => undefined],
  ['null', () => null],
  ['a number', () => 4096],
  ['NaN', () => NaN],
  ['Infinity', () => Infinity],
  ['a bigint', () => 4096n],
  ['a string', () => 'x'.repeat(P)],
  ['a hex string', () => '000101'],
  ['true', () => true],
  ['a symbol', () => Symbol('page')],
  ['a function', () => () => 0],
  ['a plain object', () => ({})],
  ['a frozen array-like', () => Object.freeze({ length: P, 0: 1 })],
  ['an array of bytes', () => new Array<number>(P).fill(0)],
  ['an ArrayBuffer', () => new ArrayBuffer(P)],
  ['a SharedArrayBuffer', () => new SharedArrayBuffer(P)],
  ['a Float64Array', () => new Float64Array(P / 8)],
  ['a DataView', () => new DataView(new ArrayBuffer(P))],
  ['a Uint16Array', () => new Uint16Array(P / 2)],
  ['an Int8Array', () => new Int8Array(P)],
  ['a Uint8ClampedArray', () => new Uint8ClampedArray(P)],
  ['a BigUint64Array', () => new BigUint64Array(P / 8)],
  ['a Proxy of a Buffer', () => new Proxy(Buffer.alloc(P), {})],
  ['an object posing as a Uint8Array', () => ({ [Symbol.toStringTag]: 'Uint8Array', length: P, buffer: new ArrayBuffer(P) })],
  ['Object.create(Uint8Array.prototype)', () => Object.create(Uint8Array.prototype)],
  ['a Promise', () => Promise.resolve(Buffer.alloc(P))],
];

// Each public function with a Uint8Array in some position: how to call it
// with `v` there and valid arguments elsewhere.
const page = () => Buffer.alloc(P, 1);
const positions: [string, (v: unknown) => unknown][] = [
  ['encode oldPage', (v) => encode(v as Uint8Array, page())],
  ['encode newPage', (v) => encode(page(), v as Uint8Array)],
  ['encodeInto oldPage', (v) => encodeInto(v as Uint8Array, page(), Buffer.alloc(P))],
  ['encodeInto newPage', (v) => encodeInto(page(), v as Uint8Array, Buffer.alloc(P))],
  ['encodeInto out', (v) => encodeInto(page(), page(), v as Uint8Array)],
  ['decodeInto delta', (v) => decodeInto(v as Uint8Array, page())],
  ['decodeInto page', (v) => decodeInto(Buffer.from([0, 1, 7]), v as Uint8Array)],
  ['decode oldPage', (v) => decode(v as Uint8Array, Buffer.from([0, 1, 7]))],
  ['decode delta', (v) => decode(page(), v as Uint8Array)],
];

describe('wrong types are a TypeError', () => {
  const table = positions.flatMap(([where, call]) => notBytes.map(([what, make]) => [where, what, call, make] as const));
  test.each(table)('%s: %s', (_where, _what, call, make) => {
    expect(outcome(() => call(make()))).toBe('TypeError');
  });

  test('missing arguments', () => {
    const f = [encode, encodeInto, decodeInto, decode] as unknown as ((...a: unknown[]) => unknown)[];
    for (const fn of f) expect(outcome(() => fn())).toBe('TypeError');
    expect(outcome(() => (encodeInto as (...a: unknown[]) => unknown)(page(), page()))).toBe('TypeError');
    expect(outcome(() => (decodeInto as (...a: unknown[]) => unknown)(Buffer.alloc(0)))).toBe('TypeError');
  });
});

describe('wrong sizes are a RangeError', () => {
  const sizes: [string, (v: unknown) => unknown, number][] = [];
  for (const n of [0, MAX_PAGE_SIZE + 1, 1 << 20]) {
    sizes.push([`encode pages of ${n} bytes`, () => encode(Buffer.alloc(n), Buffer.alloc(n)), n]);
    sizes.push([`encodeInto pages of ${n} bytes`, () => encodeInto(Buffer.alloc(n), Buffer.alloc(n), Buffer.alloc(8)), n]);
    sizes.push([`decodeInto a page of ${n} bytes`, () => decodeInto(Buffer.alloc(0), Buffer.alloc(n)), n]);
    sizes.push([`decode a page of ${n} bytes`, () => decode(Buffer.alloc(n), Buffer.alloc(0)), n]);
  }
  test.each(sizes)('%s', (_name, call) => {
    expect(outcome(() => call(undefined))).toBe('RangeError');
  });

  test.each([
    [P, P - 1],
    [1, 2],
    [MAX_PAGE_SIZE, 1],
  ])('pages of %i and %i bytes', (m, n) => {
    expect(outcome(() => encode(Buffer.alloc(m), Buffer.alloc(n)))).toBe('RangeError');
    expect(outcome(() => encodeInto(Buffer.alloc(m), Buffer.alloc(n), Buffer.alloc(P)))).toBe('RangeError');
  });

  test('pages of 1 and 16384 bytes are valid', () => {
    for (const n of [1, MAX_PAGE_SIZE]) {
      const b = Buffer.alloc(n);
      b[n - 1] = 2;
      const want = referenceEncode(Buffer.alloc(n), b);
      // A changed 1-byte page needs a 3-byte delta: past the limit of 1.
      expect(encode(Buffer.alloc(n), b)).toEqual(want.length <= n ? want : null);
      expect(encode(Buffer.alloc(n), Buffer.alloc(n))).toEqual(Buffer.alloc(0));
      const page = Buffer.alloc(n);
      expect(decodeInto(want, page)).toBe(n);
      expect(page).toEqual(b);
    }
  });
});

describe('options and limit', () => {
  const a = Buffer.alloc(P);
  const b = Buffer.alloc(P);
  b[5] = 1;
  const badOptions: [string, unknown][] = [
    ['null', null],
    ['a number', 5],
    ['a string', 'limit'],
    ['a bigint', 5n],
    ['true', true],
    ['a symbol', Symbol('o')],
  ];
  test.each(badOptions)('options %s: TypeError', (_name, v) => {
    expect(outcome(() => encode(a, b, v as never))).toBe('TypeError');
    expect(outcome(() => encodeInto(a, b, Buffer.alloc(P), v as never))).toBe('TypeError');
  });

  const badLimitType: [string, unknown][] = [
    ['a string', '10'],
    ['a bigint', 10n],
    ['null', null],
    ['true', true],
    ['an object', {}],
    ['an array', [10]],
    ['a Number object', Object(10)],
    ['a symbol', Symbol('l')],
    ['a function', () => 10],
  ];
  test.each(badLimitType)('limit %s: TypeError', (_name, v) => {
    expect(outcome(() => encode(a, b, { limit: v as number }))).toBe('TypeError');
    expect(outcome(() => encodeInto(a, b, Buffer.alloc(P), { limit: v as number }))).toBe('TypeError');
  });

  const badLimitValue: [string, number][] = [
    ['-1', -1],
    ['-Infinity', -Infinity],
    ['Infinity', Infinity],
    ['NaN', NaN],
    ['0.5', 0.5],
    ['1e-300', 1e-300],
    ['page length + 1', P + 1],
    ['2**31', 2 ** 31],
    ['2**32 + 3', 2 ** 32 + 3],
    ['2**53', 2 ** 53],
    ['Number.MAX_VALUE', Number.MAX_VALUE],
    ['-2**53', -(2 ** 53)],
  ];
  test.each(badLimitValue)('limit %s: RangeError', (_name, v) => {
    expect(outcome(() => encode(a, b, { limit: v }))).toBe('RangeError');
    expect(outcome(() => encodeInto(a, b, Buffer.alloc(P), { limit: v }))).toBe('RangeError');
  });

  test('odd but valid options work', () => {
    const want = encode(a, b)!;
    expect(encode(a, b, Object.freeze({ limit: 10 }))).toEqual(want);
    expect(encode(a, b, Object.create(null) as object)).toEqual(want);
    expect(encode(a, b, [] as never)).toEqual(want);
    expect(encode(a, b, { limit: undefined })).toEqual(want);
    expect(encode(a, b, { limit: -0 })).toBeNull();
    expect(encode(a, b, { limit: P })).toEqual(want);
    expect(encode(a, b, { limit: want.length })).toEqual(want);
    expect(encode(a, b, { limit: want.length - 1 })).toBeNull();
    // A limit beyond `out` is clamped to it, never written past.
    const out = Buffer.alloc(16, 0xee);
    expect(encodeInto(a, b, out.subarray(0, 2), { limit: P })).toBe(-1);
    expect(out.subarray(2).every((v) => v === 0xee)).toBe(true);
  });
});

describe('kernel functions', () => {
  let before: string;
  beforeAll(() => {
    before = kernel();
  });
  afterEach(() => useKernel(before));

  test.each([
    ['undefined', undefined],
    ['null', null],
    ['a number', 1],
    ['a bigint', 1n],
    ['a symbol', Symbol('js')],
    ['an object', {}],
    ['a String object', Object('js')],
    ['an array', ['js']],
    ['a function', () => 'js'],
  ])('useKernel(%s): TypeError', (_name, v) => {
    expect(outcome(() => useKernel(v as string))).toBe('TypeError');
    expect(kernel()).toBe(before);
  });

  test.each([
    ['empty', ''],
    ['unknown', 'avx9000'],
    ['wrong case', 'PORTABLE'],
    ['with a space', ' js'],
    ['js with a NUL', 'js\u0000'],
    ['__proto__', '__proto__'],
    ['constructor', 'constructor'],
    ['toString', 'toString'],
    ['1 MB long', 'p'.repeat(1 << 20)],
    ['a lone surrogate', '\ud800'],
  ])('useKernel(%s): RangeError, kernel unchanged', (_name, v) => {
    expect(outcome(() => useKernel(v))).toBe('RangeError');
    expect(kernel()).toBe(before);
  });

  // The addon reads the name as a C string; lib/ accepts only the exact
  // names kernels() lists, so a NUL after a real name is refused.
  (native ? test : test.skip)('useKernel("<kernel>\\0junk"): RangeError, kernel unchanged', () => {
    const name = `${kernels()[0]}\u0000junk`;
    expect(outcome(() => useKernel(name))).toBe('RangeError');
    expect(kernel()).toBe(before);
  });

  test('kernels() and kernel() ignore arguments and hand out copies', () => {
    const k = kernels();
    expect(k[k.length - 1]).toBe('js');
    expect(k.every((s) => typeof s === 'string')).toBe(true);
    k.push('evil');
    k[0] = 'evil';
    expect(kernels()).not.toContain('evil');
    expect((kernels as (...a: unknown[]) => string[])(1, null, {})).toEqual(kernels());
    expect(typeof (kernel as (...a: unknown[]) => string)(Symbol('x'))).toBe('string');
  });
});

eachKernel(() => {
  describe('malformed deltas', () => {
    // Valid deltas of different shapes: one-byte lengths, two-byte lengths,
    // a first zero run of 0, runs ending at the page end, many pairs.
    const deltas: [string, Buffer][] = (() => {
      const out: [string, Buffer][] = [];
      const a = Buffer.alloc(P);
      let b = Buffer.from(a);
      b.fill(7, 100, 110);
      b.fill(9, 300, 700);
      b[P - 1] = 1;
      out.push(['three runs, 2-byte lengths', referenceEncode(a, b)]);
      b = Buffer.from(a);
      b.fill(3, 0, 130);
      out.push(['first zero run 0, 130-byte run', referenceEncode(a, b)]);
      b = Buffer.from(a);
      for (let i = 0; i < 64; i += 2) b[i] = 0xaa;
      out.push(['32 one-byte runs', referenceEncode(a, b)]);
      out.push(['non-canonical 85 00 length', Buffer.from([0x85, 0x00, 0x02, 0x11, 0x22])]);
      return out;
    })();

    test.each(deltas)('%s, cut at every length: decodes or XbzrleError, page untouched', (_name, d) => {
      const bad: string[] = [];
      for (let cut = 0; cut <= d.length; cut++) {
        const part = d.subarray(0, cut);
        const page = Buffer.alloc(P, 0x33);
        const ref = Buffer.from(page);
        const want = referenceDecode(part, ref);
        try {
          const got = decodeInto(part, page);
          if (got !== want || !page.equals(ref)) bad.push(`cut ${cut}: got ${got}, want ${want}`);
        } catch (e) {
          if (!(e instanceof XbzrleError)) bad.push(`cut ${cut}: threw ${(e as Error).constructor.name}`);
          else if (want >= 0) bad.push(`cut ${cut}: rejected, reference accepts`);
          else if (!page.equals(Buffer.alloc(P, 0x33))) bad.push(`cut ${cut}: page changed`);
          else if (!(e.offset >= 0 && e.offset <= cut) || e.code !== 'ERR_XBZRLE_MALFORMED') bad.push(`cut ${cut}: bad error fields`);
        }
      }
      expect(bad).toEqual([]);
    });

    test('every byte of a valid delta flipped: same verdict as the reference, page untouched on throw', () => {
      const d = deltas[0][1];
      const bad: string[] = [];
      for (let i = 0; i < d.length; i++) {
        for (const mask of [0x01, 0x80, 0xff]) {
          const m = Buffer.from(d);
          m[i] ^= mask;
          const page = Buffer.alloc(P, 0x44);
          const ref = Buffer.from(page);
          const want = referenceDecode(m, ref);
          const got = outcome(() => decodeInto(m, page));
          if (want < 0 ? got !== 'XbzrleError' || !page.equals(Buffer.alloc(P, 0x44)) : got !== 'ok' || !page.equals(ref)) {
            bad.push(`byte ${i} ^ ${mask}: ${got}, reference ${want}`);
          }
        }
      }
      expect(bad).toEqual([]);
    });

    test('random deltas on random page sizes: the reference verdict, nothing but XbzrleError', () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ maxLength: 80 }),
          fc.integer({ min: 1, max: 200 }),
          fc.integer({ min: 0, max: 255 }),
          (d, size, fill) => {
            const page = Buffer.alloc(size, fill);
            const ref = Buffer.from(page);
            const want = referenceDecode(d, ref);
            let got: number;
            try {
              got = decodeInto(d, page);
            } catch (e) {
              return e instanceof XbzrleError && want < 0 && page.equals(Buffer.alloc(size, fill));
            }
            return got === want && page.equals(ref);
          },
        ),
        { numRuns: 3000, seed: 8 },
      );
    });

    test('1 MiB of random bytes as a delta: XbzrleError, page untouched', () => {
      const d = Buffer.alloc(1 << 20);
      let s = 12345;
      for (let i = 0; i < d.length; i++) {
        s = (s * 1103515245 + 12345) >>> 0;
        d[i] = s >>> 24;
      }
      d[0] = 0x10; // a valid first pair start, so the error comes later
      const page = Buffer.alloc(P, 5);
      expect(outcome(() => decodeInto(d, page))).toBe('XbzrleError');
      expect(page.equals(Buffer.alloc(P, 5))).toBe(true);
    });

    test('a valid delta followed by megabytes of junk: XbzrleError, page untouched', () => {
      const good = deltas[0][1];
      const d = Buffer.concat([good, Buffer.alloc(4 << 20, 0x01)]);
      const page = Buffer.alloc(P, 6);
      expect(outcome(() => decodeInto(d, page))).toBe('XbzrleError');
      expect(page.equals(Buffer.alloc(P, 6))).toBe(true);
    });

    test('the longest valid delta (8192 one-byte pairs over 16384 bytes) is accepted', () => {
      const pairs = Buffer.alloc(3 * 8192);
      for (let k = 0; k < 8192; k++) pairs.set(k === 0 ? [0, 1, 0xab] : [1, 1, 0xab], 3 * k);
      const page = Buffer.alloc(MAX_PAGE_SIZE);
      expect(decodeInto(pairs, page)).toBe(MAX_PAGE_SIZE - 1);
    });
  });
});

describe('crash-prone inputs, in a child process', () => {
  const groups: [string, string][] = [
    ['detached buffers in every position: TypeError', 'detachedCases'],
    ['SharedArrayBuffer, growable and resizable memory work as input', 'sharedCases'],
    ['overlapping views give the results of separate copies', 'overlapCases'],
    ['getters that detach or shrink memory mid-call', 'getterCases'],
    ['a lying length property: documented errors only', 'lyingLengthCases'],
    ['the raw native binding with hostile arguments', 'bindingCases'],
  ];
  test.each(groups)('%s', (_title, fn) => {
    const { result } = runInChild<Row[]>(cases, fn);
    if (fn !== 'bindingCases' || native) expect(result.length).toBeGreaterThan(0);
    const wrong = result.filter((r) => r.got !== r.want).map((r) => `[${r.kernel}] ${r.name}: want ${r.want}, got ${r.got}`);
    expect(wrong).toEqual([]);
  });

  test('all of it with the twin alone (XBZRLE_NO_NATIVE=1)', () => {
    const { result } = runInChild<Row[]>(cases, 'twinCases', { XBZRLE_NO_NATIVE: '1' });
    expect(result.length).toBeGreaterThan(0);
    expect(result.every((r) => r.kernel === 'js')).toBe(true);
    const wrong = result.filter((r) => r.got !== r.want).map((r) => `${r.name}: want ${r.want}, got ${r.got}`);
    expect(wrong).toEqual([]);
  });
});
