// Creates and drops native 64 MiB page caches (or senders over them) without
// close(), filling each, never calling gc(). Where the addon frees handles
// inside garbage collection (nativeStatus().finalizers 'gc') the loop is
// synchronous and never yields; where it frees them on the next turn of the
// event loop ('next-tick', Node 20 and 22) each round ends with an await of
// setImmediate, as a program that yields between caches does. Prints one JSON
// line: the RSS at start, the peak after each round and at the end.
// test/drop-without-close.test.ts runs it under each Node.js it supports.
'use strict';
const path = require('node:path');
const { PageCache, Sender, nativeStatus } = require(path.resolve(__dirname, '../..'));

const [mode = 'cache', roundsArg = '200', mibArg = '64'] = process.argv.slice(2);
const rounds = Number(roundsArg);
const P = 4096;
const size = Number(mibArg) * 2 ** 20;
const n = size / P;
const memory = new Uint8Array(n * P);
for (let i = 0; i < memory.length; i += 512) memory[i] = i & 255;
const addrs = Float64Array.from({ length: n }, (_, i) => i * P);

const finalizers = nativeStatus().finalizers;
const start = process.memoryUsage.rss();
let peak = start;

function round(r) {
  const cache = new PageCache({ size, pageSize: P });
  if (!cache.native) throw new Error('the page cache is not native');
  if (mode === 'sender') {
    const sender = new Sender({ cache });
    sender.sendPagesFrom(memory, addrs); // first pass: sent raw, not cached
    sender.nextGeneration();
    sender.sendPagesFrom(memory, addrs); // misses: cached
  } else {
    for (let i = 0; i < n; i++) cache.insert(i * P, memory.subarray(i * P, (i + 1) * P), 1);
  }
  if (cache.memoryUsage.pages < size) throw new Error(`round ${r}: the cache holds ${cache.memoryUsage.pages} bytes of pages, not ${size}`);
  peak = Math.max(peak, process.memoryUsage.rss());
}

async function main() {
  if (finalizers === 'gc') for (let r = 0; r < rounds; r++) round(r);
  else {
    for (let r = 0; r < rounds; r++) {
      round(r);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  const { source } = nativeStatus();
  console.log(JSON.stringify({ node: process.version, mode, rounds, size, start, peak, end: process.memoryUsage.rss(), source, finalizers }));
}
main();
