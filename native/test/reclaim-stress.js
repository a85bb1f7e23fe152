// Drops cache and sender handles in every order while sweeps (the next
// cacheNew/senderNew after a collection), finalizers (after a turn of the
// event loop) and worker teardown race to free them (native/addon/cache.cc
// reclaim). A sender kept alive must keep its cache open whatever happened
// to the cache's own handle. Run with --expose-gc:
//   node --expose-gc native/test/reclaim-stress.js [ADDON] [ROUNDS]
// Prints one JSON line; test/asan-binding.test.ts runs it under ASan and
// test/drop-without-close.test.ts under each Node.
'use strict';
const path = require('node:path');
const { Worker, isMainThread, workerData } = require('node:worker_threads');

const file = isMainThread ? process.argv[2] || path.join(__dirname, '../../build/Release/xbzrle.node') : workerData.file;
const rounds = isMainThread ? Number(process.argv[3] || 600) : workerData.rounds;
const addon = require(path.resolve(file));

const P = 4096;
const PAGES = 256;
const body = new Uint8Array(P + 3);
let seed = 0x9e3779b9;
const rand = (n) => ((seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) % n);
const page = (a, v) => {
  const p = new Uint8Array(P);
  p.fill(v & 255);
  p[a % P] = 1;
  return p;
};

function send(s, n, gen) {
  let sent = 0;
  for (let a = 0; a < n; a++) {
    addon.senderSendPage(s, a * P, page(a, gen), body, 0);
    sent++;
  }
  addon.senderNextGeneration(s);
  return sent;
}

async function run() {
  const live = []; // senders whose cache handle may be gone
  let sends = 0;
  let closedErrors = 0;
  for (let r = 0; r < rounds; r++) {
    let c = addon.cacheNew(P, PAGES * P, rand(2), 1, null);
    let s = addon.senderNew(c, P);
    sends += send(s, PAGES, r);
    switch (rand(4)) {
      case 0: c = null; live.push(s); break; // the sender outlives the cache handle
      case 1: s = null; break; // the cache handle outlives the sender (dropped next round)
      case 2: addon.cacheClear(c, true); break; // closed, then dropped
      default: break; // both dropped
    }
    c = s = null;
    for (const x of live) {
      try {
        sends += send(x, 8, r);
      } catch (e) {
        if (e.code === 'ERR_XBZRLE_CLOSED') closedErrors++;
        else throw e;
      }
    }
    if (live.length > 6) live.splice(0, rand(live.length));
    if (globalThis.gc && rand(3) === 0) globalThis.gc();
    if (rand(5) === 0) await new Promise((res) => setImmediate(res)); // let finalizers run
  }
  return { rounds, sends, closedErrors, live: live.length };
}

if (isMainThread) {
  (async () => {
    const workers = [];
    for (let i = 0; i < 4; i++) {
      // Workers end with handles still live, dropped and swept, at teardown.
      workers.push(new Promise((res, rej) => {
        const w = new Worker(__filename, { workerData: { file, rounds: Math.ceil(rounds / 8) } });
        w.on('message', res);
        w.on('error', rej);
      }));
    }
    const main = await run();
    const inWorkers = await Promise.all(workers);
    console.log(JSON.stringify({ ...main, workers: inWorkers }));
  })().catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  run().then((r) => require('node:worker_threads').parentPort.postMessage(r));
}
