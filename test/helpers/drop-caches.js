// Creates and drops native 64 MiB page caches (or senders over them) without
// close(), filling each, never calling gc(). The loop is synchronous, or
// with `yield` awaits setImmediate after each round (so the finalizers can
// run). Prints one JSON line: the RSS at start, the peak after each round
// and at the end. test/drop-without-close.test.ts runs it under each
// Node.js it supports.
'use strict';
const path = require('node:path');
const { PageCache, Sender, nativeStatus } = require(path.resolve(__dirname, '../..'));

const [mode = 'cache', roundsArg = '200', mibArg = '64', loop = 'sync'] = process.argv.slice(2);
const rounds = Number(roundsArg);
const P = 4096;
const size = Number(mibArg) * 2 ** 20;
const n = size / P;
const memory = new Uint8Array(n * P);
for (let i = 0; i < memory.length; i += 512) memory[i] = i & 255;
const addrs = Float64Array.from({ length: n }, (_, i) => i * P);

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
  for (let r = 0; r < rounds; r++) {
    round(r);
    if (loop === 'yield') await new Promise((resolve) => setImmediate(resolve));
  }
  const { source } = nativeStatus();
  console.log(JSON.stringify({ node: process.version, mode, rounds, size, start, peak, end: process.memoryUsage.rss(), source, loop }));
}
main();
