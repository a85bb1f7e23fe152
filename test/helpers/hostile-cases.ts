// The crash-prone hostile inputs, run by test/hostile.test.ts in a child
// process (helpers/child.ts): detached, shared, resizable and overlapping
// memory, getters that pull memory away mid-call, lying `length` properties,
// and direct calls of the native binding. Each group runs once per kernel and
// returns rows { kernel, name, want, got }; the test wants got === want.
import * as x from '../../lib';
import { addon } from '../../lib/backend/binding';

export interface Row {
  kernel: string;
  name: string;
  want: string;
  got: string;
}

type Fn = () => unknown;

const P = 4096;

/** 'ok' or the class name of what f threw. */
function outcome(f: Fn): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    const name = (e as { constructor?: { name?: string } })?.constructor?.name;
    return name ?? typeof e;
  }
}

/** 'documented' for a result or a TypeError/RangeError/XbzrleError, else the class. */
function documented(f: Fn): string {
  const o = outcome(f);
  return ['ok', 'TypeError', 'RangeError', 'XbzrleError'].includes(o) ? 'documented' : o;
}

// ES2024 resizable ArrayBuffer and growable SharedArrayBuffer: Node 20 has
// them, the project's TypeScript lib (ES2022) does not describe them.
interface Resizable extends ArrayBuffer {
  resize(n: number): void;
}
interface Growable extends SharedArrayBuffer {
  grow(n: number): void;
}
function resizable(n: number, max: number): Resizable {
  return new (ArrayBuffer as unknown as new (n: number, o: object) => Resizable)(n, { maxByteLength: max });
}
function growable(n: number, max: number): Growable {
  return new (SharedArrayBuffer as unknown as new (n: number, o: object) => Growable)(n, { maxByteLength: max });
}

function detach(u: Uint8Array): Uint8Array {
  structuredClone(u.buffer, { transfer: [u.buffer as ArrayBuffer] });
  return u;
}

function detached(n = P): Uint8Array {
  return detach(new Uint8Array(n));
}

/** A detached view that had an offset into a larger buffer. */
function detachedView(): Uint8Array {
  const b = new ArrayBuffer(2 * P);
  const v = new Uint8Array(b, 100, P);
  structuredClone(b, { transfer: [b] });
  return v;
}

function shared(src: Uint8Array, offset = 0): Uint8Array {
  const v = new Uint8Array(new SharedArrayBuffer(src.length + offset + 7), offset, src.length);
  v.set(src);
  return v;
}

function pagePair(seed: number): [Buffer, Buffer] {
  const a = Buffer.alloc(P);
  let s = seed;
  for (let i = 0; i < P; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    a[i] = s >>> 24;
  }
  const b = Buffer.from(a);
  for (let i = 7; i < P; i += 61) b[i] ^= 0x5a; // scattered changes
  for (let i = 1000; i < 1300; i++) b[i] ^= 0xff; // one 300-byte run (2-byte ULEB)
  return [a, b];
}

/** 'equal' when f and g give equal results (or the same error class). */
function compare(f: () => unknown, g: () => unknown): string {
  let rf: unknown;
  let rg: unknown;
  try {
    rf = f();
  } catch (e) {
    return `f threw ${(e as Error).constructor.name}: ${(e as Error).message}`;
  }
  try {
    rg = g();
  } catch (e) {
    return `g threw ${(e as Error).constructor.name}: ${(e as Error).message}`;
  }
  const norm = (v: unknown): string =>
    v instanceof Uint8Array ? `bytes:${Buffer.from(v).toString('hex')}` : JSON.stringify(v);
  return norm(rf) === norm(rg) ? 'equal' : `differs: ${norm(rf).slice(0, 80)} vs ${norm(rg).slice(0, 80)}`;
}

function perKernel(build: (rows: Row[], kernel: string) => void): Row[] {
  const rows: Row[] = [];
  const before = x.kernel();
  for (const k of x.kernels()) {
    x.useKernel(k);
    build(rows, k);
  }
  x.useKernel(before);
  return rows;
}

/** Detached buffers in every Uint8Array position of every function: TypeError. */
export function detachedCases(): Row[] {
  return perKernel((rows, kernel) => {
    const page = () => Buffer.alloc(P, 1);
    for (const [what, d] of [
      ['detached', () => detached()],
      ['detached empty', () => detached(0)],
      ['detached view with offset', detachedView],
    ] as const) {
      const add = (name: string, f: Fn) => rows.push({ kernel, name: `${name} (${what})`, want: 'TypeError', got: outcome(f) });
      add('encode oldPage', () => x.encode(d(), page()));
      add('encode newPage', () => x.encode(page(), d()));
      add('encodeInto oldPage', () => x.encodeInto(d(), page(), Buffer.alloc(P)));
      add('encodeInto newPage', () => x.encodeInto(page(), d(), Buffer.alloc(P)));
      add('encodeInto out', () => x.encodeInto(page(), page(), d()));
      add('decodeInto delta', () => x.decodeInto(d(), page()));
      add('decodeInto page', () => x.decodeInto(Buffer.from([0, 1, 7]), d()));
      add('decode oldPage', () => x.decode(d(), Buffer.from([0, 1, 7])));
      add('decode delta', () => x.decode(page(), d()));
    }
  });
}

/** SharedArrayBuffer, growable and resizable buffers: valid input, same results. */
export function sharedCases(): Row[] {
  return perKernel((rows, kernel) => {
    const [a, b] = pagePair(kernel.length);
    const delta = x.encode(a, b)!;
    const add = (name: string, f: () => unknown, g: () => unknown) =>
      rows.push({ kernel, name, want: 'equal', got: compare(f, g) });
    for (const off of [0, 3]) {
      const tag = off ? ' (view at offset 3)' : '';
      add(`encode on SAB pages${tag}`, () => x.encode(shared(a, off), shared(b, off)), () => delta);
      add(
        `encode with a limit on SAB pages${tag}`,
        () => x.encode(shared(a, off), shared(b, off), { limit: delta.length - 1 }),
        () => null,
      );
      add(
        `encodeInto a SAB out${tag}`,
        () => {
          const out = shared(new Uint8Array(P), off);
          const n = x.encodeInto(shared(a, off), shared(b, off), out);
          return out.subarray(0, n);
        },
        () => delta,
      );
      add(
        `decodeInto a SAB page from a SAB delta${tag}`,
        () => {
          const page = shared(a, off);
          x.decodeInto(shared(delta, off), page);
          return page;
        },
        () => b,
      );
      add(`decode SAB inputs${tag}`, () => x.decode(shared(a, off), shared(delta, off)), () => b);
    }
    // Growable SharedArrayBuffer and resizable ArrayBuffer (length-tracking views).
    add(
      'decodeInto a length-tracking view of a grown SharedArrayBuffer',
      () => {
        const g = growable(16, 2 * P);
        const page = new Uint8Array(g);
        g.grow(P);
        page.set(a);
        x.decodeInto(delta, page);
        return page;
      },
      () => b,
    );
    add(
      'encode from length-tracking views of a resized ArrayBuffer',
      () => {
        const r1 = resizable(16, 2 * P);
        const r2 = resizable(3 * P, 3 * P);
        const v1 = new Uint8Array(r1);
        const v2 = new Uint8Array(r2);
        r1.resize(P);
        r2.resize(P);
        v1.set(a);
        v2.set(b);
        return x.encode(v1, v2);
      },
      () => delta,
    );
    // A view left outside its shrunk buffer has length 0.
    const shrunk = () => {
      const r = resizable(2 * P, 2 * P);
      const v = new Uint8Array(r, P, P);
      r.resize(P / 2);
      return v;
    };
    rows.push({ kernel, name: 'out-of-bounds view (shrunk buffer) as page', want: 'RangeError', got: outcome(() => x.decodeInto(Buffer.alloc(0), shrunk())) });
    rows.push({ kernel, name: 'out-of-bounds view (shrunk buffer) as delta decodes nothing', want: 'ok', got: outcome(() => { if (x.decodeInto(shrunk(), Buffer.alloc(P)) !== 0) throw new Error('not 0'); }) });
    rows.push({ kernel, name: 'out-of-bounds view (shrunk buffer) as out', want: 'ok', got: outcome(() => { if (x.encodeInto(a, b, shrunk()) !== -1) throw new Error('not -1'); }) });
  });
}

/** Views that share memory: results as if each argument were a separate copy. */
export function overlapCases(): Row[] {
  return perKernel((rows, kernel) => {
    const add = (name: string, f: () => unknown, g: () => unknown) =>
      rows.push({ kernel, name, want: 'equal', got: compare(f, g) });
    // The delta is the page's first bytes; applying its first run rewrites
    // the lengths of its second pair (04 02 7f 7f | 01 01 cc).
    const d1 = Buffer.from([0x04, 0x02, 0x7f, 0x7f, 0x01, 0x01, 0xcc]);
    const copyDecode = (d: Uint8Array, page: Uint8Array) => {
      const p = Buffer.from(page);
      x.decodeInto(Buffer.from(d), p);
      return p;
    };
    for (const size of [16, P]) {
      add(
        `decodeInto(buf.subarray(0, 7), buf), page of ${size}`,
        () => {
          const buf = Buffer.alloc(size);
          d1.copy(buf);
          x.decodeInto(buf.subarray(0, d1.length), buf);
          return buf;
        },
        () => {
          const buf = Buffer.alloc(size);
          d1.copy(buf);
          return copyDecode(d1, buf);
        },
      );
    }
    // The worst case: lengths rewritten to 16383 mid-apply.
    const d2 = Buffer.from([0x04, 0x03, 0xff, 0x7f, 0x00, 0x01, 0x01, 0xcc]);
    add(
      'decodeInto with lengths rewritten to 0xff 0x7f by the delta itself',
      () => {
        const buf = Buffer.alloc(64);
        d2.copy(buf);
        x.decodeInto(buf.subarray(0, d2.length), buf);
        return buf;
      },
      () => {
        const buf = Buffer.alloc(64);
        d2.copy(buf);
        return copyDecode(d2, buf);
      },
    );
    add(
      'decodeInto with the delta at the end of the page',
      () => {
        const buf = Buffer.alloc(64);
        const d = Buffer.from([0x3a, 0x02, 0x11, 0x22]);
        d.copy(buf, 60);
        x.decodeInto(buf.subarray(60), buf);
        return buf;
      },
      () => {
        const buf = Buffer.alloc(64);
        Buffer.from([0x3a, 0x02, 0x11, 0x22]).copy(buf, 60);
        return copyDecode(Buffer.from([0x3a, 0x02, 0x11, 0x22]), buf);
      },
    );
    add(
      'decodeInto(b, b): the page is its own delta',
      () => {
        const b = Buffer.alloc(32);
        Buffer.from([0x00, 0x03, 0x09, 0x08, 0x07]).copy(b);
        x.decodeInto(b.subarray(0, 5), b);
        return b;
      },
      () => Buffer.concat([Buffer.from([0x09, 0x08, 0x07, 0x08, 0x07]), Buffer.alloc(27)]),
    );
    const [a, b] = pagePair(7);
    const want = x.encode(a, b)!;
    add(
      'encodeInto with out = newPage',
      () => {
        const nb = Buffer.from(b);
        const n = x.encodeInto(a, nb, nb);
        return nb.subarray(0, n);
      },
      () => want,
    );
    add(
      'encodeInto with out = oldPage',
      () => {
        const na = Buffer.from(a);
        const n = x.encodeInto(na, b, na);
        return na.subarray(0, n);
      },
      () => want,
    );
    add(
      'encodeInto with out straddling both pages of one buffer',
      () => {
        const buf = Buffer.concat([a, b]);
        const out = buf.subarray(P - 100, 2 * P - 100);
        const n = x.encodeInto(buf.subarray(0, P), buf.subarray(P), out);
        return Buffer.from(out.subarray(0, n));
      },
      () => want,
    );
    add('encode with oldPage === newPage', () => x.encode(a, a), () => Buffer.alloc(0));
  });
}

/** User code that runs mid-call (an options getter) and pulls memory away. */
export function getterCases(): Row[] {
  return perKernel((rows, kernel) => {
    class Boom extends Error {}
    const [a, b] = pagePair(3);
    const add = (name: string, want: string, f: Fn) => rows.push({ kernel, name, want, got: outcome(f) });
    add('a limit getter detaches newPage', 'TypeError', () => {
      const nb = new Uint8Array(b);
      return x.encode(a, nb, { get limit() { detach(nb); return P; } });
    });
    add('a limit getter detaches oldPage (encodeInto)', 'TypeError', () => {
      const na = new Uint8Array(a);
      return x.encodeInto(na, b, Buffer.alloc(P), { get limit() { detach(na); return P; } });
    });
    add('a limit getter detaches out', 'TypeError', () => {
      const out = new Uint8Array(P);
      return x.encodeInto(a, b, out, { get limit() { detach(out); return P; } });
    });
    add('a limit getter shrinks newPage (resizable buffer)', 'RangeError', () => {
      const r = resizable(P, P);
      const nb = new Uint8Array(r);
      nb.set(b);
      return x.encode(a, nb, { get limit() { r.resize(10); return P; } });
    });
    add('a limit getter throws: its error propagates', 'Boom', () =>
      x.encode(a, b, { get limit(): number { throw new Boom('from the getter'); } }),
    );
    add('a Proxy as options', 'ok', () => x.encode(a, b, new Proxy({ limit: P }, {})));
  });
}

/** A Uint8Array whose own `length` property lies: no crash, documented errors only. */
export function lyingLengthCases(): Row[] {
  return perKernel((rows, kernel) => {
    const lie = (u: Uint8Array, n: number) => Object.defineProperty(u, 'length', { value: n });
    const add = (name: string, f: Fn) => rows.push({ kernel, name, want: 'documented', got: documented(f) });
    add('a 10-byte oldPage that claims 4096', () => x.encode(lie(new Uint8Array(10), P), Buffer.alloc(P, 1)));
    add('a 10-byte page that claims 4096 (decodeInto)', () => x.decodeInto(Buffer.from([0xff, 0x1f, 1, 7]), lie(new Uint8Array(10), P)));
    add('a 10-byte out that claims 4096', () => x.encodeInto(Buffer.alloc(P), Buffer.alloc(P, 1), lie(new Uint8Array(10), P)));
    add('a 3-byte delta that claims 1', () => x.decodeInto(lie(new Uint8Array([0, 1, 5]), 1), Buffer.alloc(16)));
    add('a 1-byte delta that claims 100000', () => x.decodeInto(lie(new Uint8Array([0]), 100000), Buffer.alloc(16)));
    add('a 16384-byte page that claims 1', () => x.decode(lie(new Uint8Array(16384), 1), Buffer.from([0xff, 0x7f, 1, 1])));
  });
}

/** Direct calls of the native binding, past lib's checks: never a crash. */
export function bindingCases(): Row[] {
  if (!addon) return [];
  const rows: Row[] = [];
  const kernelName = addon.kernel();
  const a = Buffer.alloc(P);
  const b = Buffer.alloc(P, 1);
  const raw = addon as unknown as Record<string, (...args: unknown[]) => unknown>;
  const add = (name: string, want: string, f: Fn) => rows.push({ kernel: kernelName, name, want, got: outcome(f) });
  const safe = (name: string, f: Fn) => rows.push({ kernel: kernelName, name, want: 'documented', got: documented(f) });
  for (const [what, limit] of [
    ['-1', -1],
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['1e300', 1e300],
    ['2**53', 2 ** 53],
    ['1.5', 1.5],
  ] as const) {
    add(`encodeInto with limit ${what}`, 'RangeError', () => raw.encodeInto(a, b, Buffer.alloc(P), limit));
  }
  // The binding's one rule (native/addon/glue.h): a wrong type is a TypeError.
  for (const [what, limit] of [
    ['a string', '10'],
    ['a bigint', 10n],
    ['undefined', undefined],
    ['null', null],
  ] as const) {
    add(`encodeInto with limit ${what}`, 'TypeError', () => raw.encodeInto(a, b, Buffer.alloc(P), limit));
  }
  add('encodeInto with a limit past out (clamped)', 'ok', () => {
    const out = Buffer.alloc(P + 16, 0xee);
    const r = raw.encodeInto(a, b, out.subarray(0, 8), 1e9);
    if (r !== -1 || out[8] !== 0xee) throw new Error(`wrote past out: ${r}`);
  });
  add('encodeInto with 0-byte pages', 'RangeError', () => raw.encodeInto(new Uint8Array(0), new Uint8Array(0), Buffer.alloc(8), 8));
  add('encodeInto with 16385-byte pages', 'RangeError', () => raw.encodeInto(Buffer.alloc(16385), Buffer.alloc(16385), Buffer.alloc(8), 8));
  add('encodeInto with pages of different lengths', 'RangeError', () => raw.encodeInto(Buffer.alloc(P), Buffer.alloc(P - 1), Buffer.alloc(8), 8));
  add('encodeInto with a detached out', 'ok', () => {
    if (raw.encodeInto(a, b, detached(), P) !== -1) throw new Error('not -1');
  });
  add('encodeInto with detached pages', 'RangeError', () => raw.encodeInto(detached(), detached(), Buffer.alloc(8), 8));
  add('encodeInto with a Float64Array page', 'TypeError', () => raw.encodeInto(new Float64Array(512), b, Buffer.alloc(8), 8));
  add('encodeInto with a DataView out', 'TypeError', () => raw.encodeInto(a, b, new DataView(new ArrayBuffer(8)), 8));
  safe('encodeInto with no arguments', () => raw.encodeInto());
  safe('encodeInto with three arguments', () => raw.encodeInto(a, b, Buffer.alloc(8)));
  add('decodeInto with a detached delta', 'ok', () => raw.decodeInto(detached(), Buffer.alloc(16)));
  add('decodeInto with a detached page', 'ok', () => {
    const r = raw.decodeInto(Buffer.from([0, 1, 1]), detached()) as number;
    if (r >= 0) throw new Error(`accepted a run into a 0-byte page: ${r}`);
  });
  add('decodeInto onto a 0-byte page', 'ok', () => raw.decodeInto(Buffer.alloc(0), new Uint8Array(0)));
  add('decodeInto onto a 1 MiB page', 'ok', () => {
    const r = raw.decodeInto(Buffer.from([0xff, 0x7f, 0x01, 0x09]), Buffer.alloc(1 << 20));
    if (r !== 16384) throw new Error(`covered ${r}`);
  });
  add('decodeInto with a string delta', 'TypeError', () => raw.decodeInto('0001ff', Buffer.alloc(16)));
  safe('decodeInto with no arguments', () => raw.decodeInto());
  for (const v of [undefined, null, 1, 1n, {}, ['portable'], '', 'x'.repeat(100), 'portable\u0000x']) {
    safe(`useKernel(${typeof v === 'string' ? JSON.stringify(v.slice(0, 20)) : String(v)})`, () => raw.useKernel(v));
  }
  addon.useKernel(kernelName);
  safe('kernels with junk arguments', () => raw.kernels(1, null, {}));
  safe('kernel with junk arguments', () => raw.kernel(Symbol('s')));
  return rows;
}

/** Every group that does not need the addon, for a run with the twin alone. */
export function twinCases(): Row[] {
  return [...detachedCases(), ...sharedCases(), ...overlapCases(), ...getterCases(), ...lyingLengthCases()];
}
