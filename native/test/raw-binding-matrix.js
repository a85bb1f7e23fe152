// raw-binding-matrix.js: calls every raw binding function with every handle
// kind (budget, cache, sender, job), numbers, objects, null/undefined and
// nothing, and prints one JSON row per call: {fn, k, n, got}. `got` is 'ok'
// or the thrown error's class. Run as a child (test/raw-binding.test.ts, and
// test/asan-binding.test.ts under AddressSanitizer) so a crash is a failed
// exit, not a dead test runner.
//   node raw-binding-matrix.js [ADDON.node]   (default: the package's addon)
'use strict';
const path = require('node:path');

const addon = process.argv[2]
  ? require(path.resolve(process.argv[2]))
  : require(path.join(__dirname, '..', '..', 'dist', 'backend', 'binding.js')).addon;
if (!addon) throw new Error('no addon loaded');
// lib/backend/binding.ts does this on load; a bare .node needs it for jobs.
if (process.argv[2]) addon.setUntransferable(require('node:worker_threads').markAsUntransferable);

const budget = addon.budgetNew(1 << 20);
const cache = addon.cacheNew(4096, 1 << 16, 0, 1, budget);
const sender = addon.senderNew(cache, 4096);
const job = addon.decodePagesStart(Buffer.alloc(0), new Uint32Array(0), new Int32Array(0), Buffer.alloc(0), null, 4096, 1, 1, () => {});
const junk = {
  budget, cache, sender, job,
  zero: 0, minus: -1, frac: 1.5, nan: NaN, big: 2n ** 70n, str: 'x',
  obj: {}, arr: [], nul: null, undef: undefined, fn: () => {},
  u8: new Uint8Array(8), f64: new Float64Array(16),
};
const names = Object.keys(addon).filter((k) => typeof addon[k] === 'function' && k !== 'setUntransferable');
const rows = [];
for (const fn of names) {
  for (const [k, v] of Object.entries(junk)) {
    for (const n of [0, 1, 2, 12]) {
      const args = Array.from({ length: n }, () => v);
      let got = 'ok';
      try {
        addon[fn](...args);
      } catch (e) {
        got = e && e.constructor ? e.constructor.name : String(e);
      }
      rows.push({ fn, k, n, got });
    }
  }
}
// Close what is still open so the run ends with the handles' finalizers.
addon.cacheClear(cache, true);
process.stdout.write(JSON.stringify(rows));
