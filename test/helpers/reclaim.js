// What reclaim (native/addon/cache.cc) frees, and what it must not, inside
// one synchronous stretch (no turn of the event loop, so no finalizer runs).
// Run with --expose-gc; prints one JSON line.
//  - A dropped, filled cache drawing from a budget: after a collection, the
//    next cache created returns its budget at once.
//  - A cache handle dropped while a sender on it lives: the sweep leaves the
//    cache open and the sender keeps sending from it.
'use strict';
const path = require('node:path');
const { PageCache, MemoryBudget } = require(path.resolve(__dirname, '../..'));
const { addon } = require(path.resolve(__dirname, '../../dist/backend/binding.js'));

const P = 4096;
const SIZE = 64 << 20;
const page = new Uint8Array(P).fill(7);

function fill(cache) {
  for (let a = 0; a < SIZE; a += P) cache.insert(a, page, 1);
}

const budget = new MemoryBudget(2 * SIZE);
(() => fill(new PageCache({ size: SIZE, pageSize: P, budget })))();
const usedDropped = budget.used;
globalThis.gc();
const next = new PageCache({ size: 4 * P, pageSize: P, budget });
const usedAfter = budget.used;

// Raw: a sender outlives its cache's handle.
const stats = new Float64Array(16);
let cache = addon.cacheNew(P, 16 * P, 0, 1, null);
const sender = addon.senderNew(cache, P);
const body = new Uint8Array(P + 3);
addon.senderSendPage(sender, 0, page, body, 0); // the first pass sends raw
addon.senderNextGeneration(sender);
addon.senderSendPage(sender, 0, page, body, 0); // a miss: sent raw and cached
cache = null;
globalThis.gc();
(() => fill(new PageCache({ size: SIZE, pageSize: P })))(); // grows past the sweep threshold
globalThis.gc();
new PageCache({ size: 4 * P, pageSize: P }); // sweeps
addon.senderNextGeneration(sender);
const changed = page.slice();
changed[9] = 1;
const kind = addon.senderSendPage(sender, 0, changed, body, 0) & 3; // delta against the cached page
addon.senderStats(sender, stats);
console.log(JSON.stringify({ usedDropped, usedAfter, next: next.memoryUsage.pages, kind, stats: Array.from(stats) }));
