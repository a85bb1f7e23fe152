// Throws from the addon N times while dropping handles that have finalizers,
// so garbage collections start while a callback's exception is being
// rethrown. With finalizers inside garbage collection (the experimental
// Node-API version) Node 20, 22 and 24.22 abort here; the addon loads at
// Node-API 8 (native/addon/glue.h). Prints one JSON line.
'use strict';
const path = require('node:path');
const { addon } = require(path.resolve(__dirname, '../../dist/backend/binding.js'));

const n = Number(process.argv[2] || 1e6);
let thrown = 0;
for (let i = 0; i < n; i++) {
  addon.budgetNew(1 << 20);
  if (i % 8 === 0) addon.cacheNew(4096, 1 << 18, 0, 1, null); // sweeps for dropped caches now and then
  try {
    addon.budgetInfo(i);
  } catch {
    thrown++;
  }
}
console.log(JSON.stringify({ node: process.version, n, thrown }));
