// raw-binding.test.ts: every raw binding function with every handle kind,
// numbers, objects, null/undefined and nothing: a TypeError or RangeError,
// never a crash (native/addon/glue.h: tagged handles, one argument policy).
// Runs in a child process so a crash fails the test instead of jest.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { addon } from '../lib/backend/binding';
import { cacheAddon } from '../lib/backend/native-cache';

const script = `
const { addon } = require(${JSON.stringify(path.join(__dirname, '..', 'dist', 'backend', 'binding.js'))});
const budget = addon.budgetNew(1 << 20);
const cache = addon.cacheNew(4096, 1 << 16, 0, 1, budget);
const sender = addon.senderNew(cache, 4096);
const job = addon.decodePagesStart(Buffer.alloc(0), new Uint32Array(0), new Int32Array(0), Buffer.alloc(0), null, 4096, 1, 1, () => {});
const junk = { budget, cache, sender, job, zero: 0, minus: -1, frac: 1.5, nan: NaN, big: 2n ** 70n, str: 'x',
  obj: {}, arr: [], nul: null, undef: undefined, fn: () => {}, u8: new Uint8Array(8), f64: new Float64Array(16) };
const names = Object.keys(addon).filter((k) => typeof addon[k] === 'function' && k !== 'setUntransferable');
const rows = [];
for (const fn of names) {
  const arity = 12;
  for (const [k, v] of Object.entries(junk)) {
    for (const n of [0, 1, 2, arity]) {
      const args = Array.from({ length: n }, () => v);
      let got = 'ok';
      try { addon[fn](...args); } catch (e) { got = e && e.constructor ? e.constructor.name : String(e); }
      rows.push({ fn, k, n, got });
    }
  }
}
process.stdout.write(JSON.stringify(rows));
`;

(addon ? describe : describe.skip)('raw binding (no addon: nothing to call)', () => {
  test('every function, every hostile argument: TypeError/RangeError or a documented answer, no crash', () => {
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(r.signal).toBeNull();
    expect(r.status).toBe(0);
    const rows = JSON.parse(r.stdout) as { fn: string; k: string; n: number; got: string }[];
    expect(rows.length).toBeGreaterThan(500);
    const bad = rows.filter((x) => !['ok', 'TypeError', 'RangeError', 'Error'].includes(x.got));
    expect(bad).toEqual([]);
    // A handle of another kind is always refused.
    const kindOf = (fn: string): string | null =>
      fn === 'cancelJob' ? 'job' : fn === 'senderNew' ? 'cache' : /^(budget|cache|sender)(?!New)/.exec(fn)?.[1] ?? null;
    const cross = rows.filter(
      (x) => x.n >= 1 && ['budget', 'cache', 'sender', 'job'].includes(x.k) && x.got === 'ok' &&
        kindOf(x.fn) !== null && kindOf(x.fn) !== x.k,
    );
    expect(cross).toEqual([]);
  });

  test('cancelJob with a budget handle is a TypeError (was a heap overflow)', () => {
    const b = cacheAddon!.budgetNew(1 << 20);
    let name = '';
    try {
      addon!.cancelJob(b as never);
    } catch (e) {
      name = (e as Error).name; // the addon's TypeError is of the main realm, not jest's
    }
    expect(name).toBe('TypeError');
  });
});
