// The native/twin contract: for the same calls, the addon and the TypeScript
// twin give the same results and the same errors (class, code, reason,
// offset, message). Each case runs on every backend this machine has and
// compares them; each also states the outcome it must have, so the twin
// alone is still checked where no addon loads.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { MemoryBudget, PageCache, Sender, decodePages, encode, kernel, kernels, native, sendPagesCapacity, useKernel } from '../lib';
import { INSERT_CLOSED } from '../lib/backend/abi';
import { openBudget, openCache } from '../lib/backend/open-cache';
import { metadataBytes } from '../lib/twin/cache';

const P = 4096;
type Name = 'native' | 'twin';
const names: Name[] = native ? ['native', 'twin'] : ['twin'];

/** What a call did, in the fields the contract fixes. */
interface Outcome {
  ok?: unknown;
  error?: string;
  code?: unknown;
  reason?: unknown;
  offset?: unknown;
  page?: unknown;
  message?: string;
}

function outcome(fn: () => unknown): Outcome {
  try {
    return { ok: fn() };
  } catch (e) {
    const x = e as Error & Record<string, unknown>;
    const o: Outcome = { error: x.constructor.name, message: x.message };
    for (const k of ['code', 'reason', 'offset', 'page'] as const) if (x[k] !== undefined) o[k] = x[k];
    return o;
  }
}

/** Runs fn once per backend (caches made inside fn get that backend). */
function onEach<T>(fn: (name: Name) => T): Record<Name, T> {
  const before = kernel();
  const out = {} as Record<Name, T>;
  try {
    for (const name of names) {
      useKernel(name === 'native' ? kernels()[0] : 'js');
      out[name] = fn(name);
    }
  } finally {
    useKernel(before);
  }
  return out;
}

/** Every backend gave `want` (a partial outcome) and all gave the same. */
function expectSame(got: Record<Name, Outcome>, want: Outcome): void {
  for (const name of names) expect({ [name]: got[name] }).toEqual({ [name]: expect.objectContaining(want) });
  if (got.native) expect(got.twin).toEqual(got.native);
}

function detach(u: Uint8Array): void {
  structuredClone(u.buffer, { transfer: [u.buffer as ArrayBuffer] });
}

function page(fill: number): Buffer {
  return Buffer.alloc(P, fill);
}

test(`backends compared here: ${names.join(', ')}`, () => {
  expect(names).toContain('twin');
  if (process.env.CI === 'true') expect(names).toContain('native');
});

describe('memoryUsage().metadata', () => {
  const geometries: [string, PageCacheGeometry][] = [
    ['1 MiB of 4 KiB pages', { size: 1 << 20, pageSize: P }],
    ['64 MiB associative, 8 ways', { size: 64 << 20, pageSize: P, policy: 'associative', ways: 8 }],
    ['one 16 KiB page', { size: 16384, pageSize: 16384 }],
    ['2^20 one-byte pages', { size: 1 << 20, pageSize: 1 }],
    ['8 MiB of 512-byte pages, 64 ways', { size: 8 << 20, pageSize: 512, policy: 'associative', ways: 64 }],
    ['2 pages, 8 ways asked', { size: 2 * P, pageSize: P, policy: 'associative', ways: 8 }],
  ];
  type PageCacheGeometry = ConstructorParameters<typeof PageCache>[0];

  test.each(geometries)('%s: equal in both backends, and the formula', (_name, g) => {
    const got = onEach(() => {
      const c = new PageCache(g);
      const fresh = c.memoryUsage;
      for (let i = 0; i < 40; i++) c.insert(i * c.pageSize * 3, Buffer.alloc(c.pageSize, i), 1);
      const filled = c.memoryUsage;
      c.resize(c.size * 2);
      const grown = c.memoryUsage;
      c.close();
      return { fresh, filled, grown, closed: c.memoryUsage };
    });
    if (got.native) expect(got.twin).toEqual(got.native);
    const slots = g.size / (g.pageSize ?? P);
    const perChunk = 2 ** Math.floor(Math.log2(Math.max(1, Math.floor((256 << 10) / (g.pageSize ?? P)))));
    expect(got.twin.fresh).toEqual({ pages: 0, metadata: metadataBytes(slots, Math.ceil(slots / perChunk)), total: metadataBytes(slots, Math.ceil(slots / perChunk)) });
    expect(got.twin.grown.metadata).toBe(metadataBytes(2 * slots, Math.ceil((2 * slots) / perChunk)));
    expect(got.twin.closed).toEqual({ pages: 0, metadata: 0, total: 0 });
  });
});

describe('a closed cache', () => {
  test('insert: INSERT_CLOSED from the backend, ERR_XBZRLE_CLOSED from PageCache', () => {
    const got = onEach(() => {
      const g = { pageSize: P, size: 4 * P, associative: false, ways: 1 };
      const b = openCache(g, openBudget(1 << 20));
      b.close();
      const raw = b.insert(0, page(1), 1);
      const c = new PageCache({ size: 4 * P });
      c.close();
      return { raw, wrapped: outcome(() => c.insert(0, page(1), 1)) };
    });
    for (const name of names) {
      expect(got[name].raw).toBe(INSERT_CLOSED);
      expect(got[name].wrapped).toMatchObject({ error: 'ClosedError', code: 'ERR_XBZRLE_CLOSED', reason: 'cache-closed' });
    }
    if (got.native) expect(got.twin).toEqual(got.native);
  });
});

describe('decodePages', () => {
  test('a delta inside its own page is refused at offset 0, the page untouched', () => {
    const got = onEach(() => {
      const delta = encode(page(0), Buffer.concat([Buffer.alloc(100, 0), Buffer.alloc(10, 7), Buffer.alloc(P - 110, 0)]))!;
      const pages = Buffer.alloc(2 * P, 0);
      delta.copy(pages, P + 200); // page 1 holds its own delta
      const before = Buffer.from(pages);
      const r = outcome(() =>
        decodePages(pages, new Uint32Array([0, P + 200]), new Int32Array([0, delta.length]), pages),
      );
      return { ...r, untouched: pages.equals(before) };
    });
    expectSame(got, { error: 'XbzrleError', code: 'ERR_XBZRLE_MALFORMED', reason: 'delta-overlaps-page', offset: 0, page: 1 });
    for (const name of names) expect(got[name]).toMatchObject({ untouched: true });
  });

  test('a delta in another page of the same buffer is applied', () => {
    const got = onEach(() => {
      const want = Buffer.concat([Buffer.alloc(100, 0), Buffer.alloc(10, 7), Buffer.alloc(P - 110, 0)]);
      const delta = encode(page(0), want)!;
      const pages = Buffer.alloc(2 * P, 0);
      delta.copy(pages, P + 200); // page 1 holds page 0's delta
      decodePages(pages, new Uint32Array([P + 200]), new Int32Array([delta.length]), pages.subarray(0, P));
      return pages.subarray(0, P).equals(want);
    });
    for (const name of names) expect(got[name]).toBe(true);
  });
});

describe('Sender', () => {
  function sender(): Sender {
    const s = new Sender({ cache: new PageCache({ size: 64 * P }) });
    s.nextGeneration();
    return s;
  }

  test('sendPages with an out that overlaps the pages: RangeError', () => {
    const got = onEach(() => {
      const n = 4;
      const need = sendPagesCapacity(n, P);
      const s = sender();
      const mem = Buffer.alloc(n * P + need);
      const addrs = [0, P, 2 * P, 3 * P];
      return {
        contiguous: outcome(() => s.sendPages(addrs, mem.subarray(0, n * P), { out: mem.subarray(n * P - 1) })),
        list: outcome(() => s.sendPages(addrs, [0, 1, 2, 3].map((i) => mem.subarray(i * P, (i + 1) * P)), { out: mem.subarray(3 * P) })),
        memory: outcome(() => s.sendPagesFrom(mem.subarray(0, n * P), addrs, { out: mem.subarray(2 * P) })),
        apart: outcome(() => s.sendPages(addrs, mem.subarray(0, n * P), { out: mem.subarray(n * P) }).data.length),
      };
    });
    for (const name of names) {
      expect(got[name].contiguous).toMatchObject({ error: 'RangeError', message: expect.stringMatching(/"out" option must not share memory with the pages/) });
      expect(got[name].list).toMatchObject({ error: 'RangeError', message: expect.stringMatching(/"out" option must not share memory/) });
      expect(got[name].memory).toMatchObject({ error: 'RangeError', message: expect.stringMatching(/with the memory/) });
      expect(got[name].apart.ok).toBeGreaterThan(4 * P);
    }
    if (got.native) expect(got.twin).toEqual(got.native);
  });

  test('an options getter that closes the cache: ERR_XBZRLE_CLOSED', () => {
    const got = onEach(() => {
      const cases: Record<string, Outcome> = {};
      const closing = (s: Sender) => ({
        get lastStage() {
          s.cache.close();
          return false;
        },
      });
      let s = sender();
      cases.sendPage = outcome(() => s.sendPage(0, page(1), closing(s)));
      s = sender();
      cases.sendPages = outcome(() => s.sendPages([0], page(1), closing(s)));
      s = sender();
      cases.sendPagesFrom = outcome(() => s.sendPagesFrom(page(1), [0], closing(s)));
      const cache = new PageCache({ size: 4 * P });
      cases.senderNew = outcome(
        () =>
          new Sender({
            cache,
            get limit() {
              cache.close();
              return 100;
            },
          }),
      );
      return cases;
    });
    for (const name of names) {
      for (const k of ['sendPage', 'sendPages', 'sendPagesFrom']) {
        expect({ [k]: got[name][k] }).toEqual({ [k]: expect.objectContaining({ error: 'ClosedError', code: 'ERR_XBZRLE_CLOSED', reason: 'cache-closed' }) });
      }
      expect(got[name].senderNew).toMatchObject({ error: 'RangeError', message: expect.stringMatching(/closed PageCache/) });
    }
    if (got.native) expect(got.twin).toEqual(got.native);
  });

  test('an options getter that detaches a page: TypeError', () => {
    const got = onEach(() => {
      const detaching = (u: Uint8Array) => ({
        get detectZero() {
          detach(u);
          return false;
        },
      });
      let p = page(1);
      const one = outcome(() => sender().sendPage(0, p, detaching(p)));
      p = page(1);
      const batch = outcome(() => sender().sendPages([0], p, detaching(p)));
      const list = [page(1), page(2)];
      const inList = outcome(() => sender().sendPages([0, P], list, detaching(list[1])));
      p = page(1);
      const memory = outcome(() => sender().sendPagesFrom(p, [0], detaching(p)));
      const out = Buffer.alloc(sendPagesCapacity(1, P));
      const outDetached = outcome(() => sender().sendPages([0], page(1), { out, ...detaching(out) }));
      return { one, batch, inList, memory, outDetached };
    });
    const want: Record<string, RegExp> = {
      one: /"page" argument/,
      batch: /"pages" argument/,
      inList: /"pages\[1\]" element/,
      memory: /"memory" argument/,
      outDetached: /"out" option/,
    };
    for (const name of names) {
      for (const [k, re] of Object.entries(want)) {
        const o = (got[name] as Record<string, Outcome>)[k];
        expect({ [k]: o }).toEqual({ [k]: expect.objectContaining({ error: 'TypeError', message: expect.stringMatching(re) }) });
        expect(o.message).toMatch(/detached/);
      }
    }
    if (got.native) expect(got.twin).toEqual(got.native);
  });
});

describe('a dropped twin cache gives its budget back when collected', () => {
  const root = path.join(__dirname, '..');
  // A child with --expose-gc running the built package (npm run build:ts).
  const script = `
    const x = require(${JSON.stringify(root)});
    x.useKernel('js');
    const P = 4096, N = 1024;
    const b = new x.MemoryBudget(N * P);
    const page = Buffer.alloc(P, 1);
    (() => {
      const c = new x.PageCache({ size: N * P, budget: b });
      const s = new x.Sender({ cache: c });
      s.nextGeneration();
      for (let i = 0; i < N; i++) s.sendPage(i * P, page);
      if (c.native) throw new Error('not a twin cache');
    })();
    const held = b.used;
    (async () => {
      for (let k = 0; k < 50 && b.used > 0; k++) {
        globalThis.gc();
        await new Promise((r) => setTimeout(r, 10));
      }
      const after = b.used;
      const c = new x.PageCache({ size: N * P, budget: b });
      let stored = 0;
      for (let i = 0; i < N; i++) stored += c.insert(i * P, page, 1) ? 1 : 0;
      console.log(JSON.stringify({ held, after, stored }));
    })();
  `;
  const run = (env: Record<string, string>) =>
    JSON.parse(
      execFileSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', env: { ...process.env, ...env } }).trim(),
    ) as unknown;

  test('a twin budget (no addon)', () => {
    expect(run({ XBZRLE_NO_NATIVE: '1' })).toEqual({ held: 4 << 20, after: 0, stored: 1024 });
  });

  (native ? test : test.skip)('a native budget shared with a twin cache', () => {
    expect(run({})).toEqual({ held: 4 << 20, after: 0, stored: 1024 });
  });
});

test('a budget made by MemoryBudget is the backend the caches use', () => {
  const b = new MemoryBudget(2 * P);
  const got = onEach(() => {
    const c = new PageCache({ size: 2 * P, budget: b });
    c.insert(0, page(1), 1);
    const used = b.used;
    c.close();
    return [used, b.used];
  });
  for (const name of names) expect(got[name]).toEqual([2 * P, 0]);
});
