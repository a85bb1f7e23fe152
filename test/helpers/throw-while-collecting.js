// Throws from the addon N times while dropping handles that have finalizers,
// so garbage collections start while a callback's exception is being
// rethrown. With finalizers inside garbage collection, Node 20 and 22 abort
// here (native/addon/init.cc); the addon must choose next-tick finalizers
// there. Prints one JSON line.
'use strict';
const path = require('node:path');
const { nativeStatus } = require(path.resolve(__dirname, '../..'));
const { addon } = require(path.resolve(__dirname, '../../dist/backend/binding.js'));

const n = Number(process.argv[2] || 1e6);
let thrown = 0;
for (let i = 0; i < n; i++) {
  addon.budgetNew(1 << 20);
  try {
    addon.budgetInfo(i);
  } catch {
    thrown++;
  }
}
console.log(JSON.stringify({ node: process.version, n, thrown, finalizers: nativeStatus().finalizers }));
