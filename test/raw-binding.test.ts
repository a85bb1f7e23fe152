// raw-binding.test.ts: every raw binding function with every handle kind,
// numbers, objects, null/undefined and nothing: a TypeError or RangeError,
// never a crash (native/addon/glue.h: tagged handles, one argument policy).
// Runs native/test/raw-binding-matrix.js in a child process so a crash fails
// the test instead of jest; test/asan-binding.test.ts runs it under ASan.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { addon } from '../lib/backend/binding';

const matrix = path.join(__dirname, '..', 'native', 'test', 'raw-binding-matrix.js');

(addon ? describe : describe.skip)('raw binding (no addon: nothing to call)', () => {
  test('every function, every hostile argument: TypeError/RangeError or a documented answer, no crash', () => {
    const r = spawnSync(process.execPath, [matrix], { encoding: 'utf8', maxBuffer: 64 << 20 });
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
    const b = addon!.budgetNew(1 << 20);
    let name = '';
    try {
      addon!.cancelJob(b as never);
    } catch (e) {
      name = (e as Error).name; // the addon's TypeError is of the main realm, not jest's
    }
    expect(name).toBe('TypeError');
  });
});
