#!/usr/bin/env node
// stream-fuzz.js: a fuzz loop, in JavaScript, for the two readers of RAM
// records that have no native code to give to libFuzzer: the migration
// stream reader (readMigration, inspectStream) and RecordReader.
//
//   node native/fuzz/stream-fuzz.js [--target stream|record|all] [--seconds N]
//        [--runs N] [--seed N] [--replay DIR...]
//
// Inputs are mutants of real streams: windows of the committed QEMU stream
// (test/fixtures/streams) and of RecordWriter output, with bit flips,
// interesting bytes and length words, inserts, deletions, splices and cuts.
// Checks: the readers throw only their coded errors (StreamError,
// RecordError); RecordReader gives the same records and the same error
// whatever the chunking; each input takes under PER_INPUT_MS and leaves
// under MAX_BUFFERS_MB of buffers. The loop runs in a worker with a heap
// limit, watched from the main thread, so a hang or an out-of-memory is
// caught too: the input is kept in a SharedArrayBuffer before each run and
// written to native/fuzz/out/artifacts/js-TARGET/ on any failure (copy it
// to test/fixtures/fuzz-regressions/js-TARGET/ to keep it as a regression).
// Needs dist/ (npm run build:ts). Exit 0: no failure; 1: a failure.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const crypto = require('node:crypto');
const { Worker, isMainThread, workerData, parentPort } = require('node:worker_threads');

const root = path.join(__dirname, '..', '..');
const PER_INPUT_MS = 2000; // a slow input is a failure (typical: well under 1 ms)
const HANG_MS = 20000; // the watchdog's bound, for inputs that never return
const MAX_BUFFERS_MB = 128; // buffers alive after an input (the reader caps an element at 16 MiB)
const HEAP_MB = 512; // the worker's heap limit
const MAX_INPUT = 1 << 20;

function parseArgs(argv) {
  const o = { target: 'all', seconds: 30, runs: Infinity, seed: 1, replay: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => argv[++i];
    if (a === '--target') o.target = v();
    else if (a === '--seconds') o.seconds = Number(v());
    else if (a === '--runs') o.runs = Number(v());
    else if (a === '--seed') o.seed = Number(v());
    else if (a === '--replay') o.replay.push(v());
    else if (a === '-h' || a === '--help') {
      console.log(fs.readFileSync(__filename, 'utf8').split('\n').slice(1, 20).join('\n'));
      process.exit(0);
    } else throw new Error(`stream-fuzz: unknown argument ${a}`);
  }
  if (!['stream', 'record', 'all'].includes(o.target)) throw new Error(`stream-fuzz: --target must be stream, record or all`);
  if (!(o.seconds > 0) || !(o.seed >= 0)) throw new Error('stream-fuzz: --seconds must be > 0, --seed >= 0');
  return o;
}

if (isMainThread) {
  const opts = parseArgs(process.argv.slice(2));
  const sab = new SharedArrayBuffer(16 + MAX_INPUT);
  const ctrl = new Int32Array(sab, 0, 4); // [executions, input length, target (0 stream, 1 record), running]
  const input = new Uint8Array(sab, 16);
  const started = Date.now();
  const worker = new Worker(__filename, { workerData: { ...opts, sab }, resourceLimits: { maxOldGenerationSizeMb: HEAP_MB } });
  let last = -1;
  let lastChange = Date.now();
  let done = false;
  const keep = (why) => {
    const target = ['stream', 'record'][Atomics.load(ctrl, 2)];
    const bytes = Buffer.from(input.subarray(0, Atomics.load(ctrl, 1)));
    const dir = path.join(__dirname, 'out', 'artifacts', `js-${target}`);
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `crash-${crypto.createHash('sha1').update(bytes).digest('hex').slice(0, 16)}`);
    fs.writeFileSync(file, bytes);
    console.log(`stream-fuzz: ${target}: FAILED (${why}) after ${Atomics.load(ctrl, 0)} executions; input ${file} (${bytes.length} bytes), base64:`);
    console.log(bytes.toString('base64').replace(/(.{100})/g, '$1\n'));
    console.log(`stream-fuzz: replay with: node native/fuzz/stream-fuzz.js --replay ${dir}`);
  };
  const watch = setInterval(() => {
    const n = Atomics.load(ctrl, 0);
    if (n !== last) {
      last = n;
      lastChange = Date.now();
    } else if (Atomics.load(ctrl, 3) === 1 && Date.now() - lastChange > HANG_MS) {
      clearInterval(watch);
      keep(`no progress in ${HANG_MS} ms: a hang`);
      done = true;
      void worker.terminate().then(() => process.exit(1));
    }
  }, 250);
  worker.on('message', (m) => {
    if (m.failure) {
      keep(m.failure);
      done = true;
      clearInterval(watch);
      void worker.terminate().then(() => process.exit(1));
      return;
    }
    if (m.line) console.log(m.line);
    if (m.done) {
      done = true;
      clearInterval(watch);
      const secs = (Date.now() - started) / 1000;
      for (const [t, s] of Object.entries(m.stats)) {
        console.log(`stream-fuzz: ${t}: ${s.execs} executions in ${secs.toFixed(1)}s (${Math.round(s.execs / secs)}/s), seed ${opts.seed}, ${s.errors} coded errors, no failure`);
      }
      console.log(`stream-fuzz: ${Object.values(m.stats).reduce((a, s) => a + s.execs, 0)} executions in all; 0 failed`);
      process.exit(0);
    }
  });
  worker.on('error', (err) => {
    if (done) return;
    done = true;
    clearInterval(watch);
    keep(`the worker died: ${err && err.code ? `${err.code} ` : ''}${err && err.message}`);
    process.exit(1);
  });
  worker.on('exit', (code) => {
    if (!done) {
      clearInterval(watch);
      keep(`the worker exited with ${code}`);
      process.exit(1);
    }
  });
} else {
  runWorker(workerData).catch((err) => {
    parentPort.postMessage({ failure: `the loop itself failed: ${err && err.stack}` });
  });
}

async function runWorker(opts) {
  const lib = require(path.join(root, 'dist', 'index.js'));
  const { readMigration, inspectStream, StreamError, RecordReader, RecordWriter, RecordError } = lib;
  const ctrl = new Int32Array(opts.sab, 0, 4);
  const shared = new Uint8Array(opts.sab, 16);

  let state = opts.seed >>> 0 || 0x9e3779b9;
  const rnd = () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
  const below = (n) => rnd() % n;

  // Seeds. The QEMU stream: its head (header, configuration, the RAM block
  // list, first pages), and windows of the RAM section behind that head.
  const qemu = zlib.gunzipSync(fs.readFileSync(path.join(root, 'test', 'fixtures', 'streams', 'small-xbzrle.stream.gz')));
  // Windows start and end at record boundaries, and the head ends after
  // the first page record, so the records of a window continue its block.
  const pageAt = [];
  for await (const ev of readMigration(qemu)) {
    if (ev.kind === 'page' || ev.kind === 'zero' || ev.kind === 'xbzrle') pageAt.push(ev.offset);
  }
  const head = qemu.subarray(0, pageAt[1]);
  const streamSeeds = [head, qemu.subarray(0, pageAt[64]), qemu.subarray(0, 65536)];
  for (let i = 0; i < 48; i++) {
    const k = 2 + Math.floor((i / 48) * (pageAt.length - 400));
    streamSeeds.push(Buffer.concat([head, qemu.subarray(pageAt[k], pageAt[k + 4 + (i % 6) * 40])]));
  }
  streamSeeds.push(qemu.subarray(qemu.length - 65536)); // the end: device state, EOF, VM description
  // RecordWriter output: every record kind, two page sizes.
  const recordSeeds = [];
  for (const P of [4096, 1024]) {
    const w = new RecordWriter({ pageSize: P });
    const page = Buffer.alloc(P, 0x11);
    w.memSize([{ name: 'pc.ram', length: 64 * P }, { name: '/rom@etc/acpi/tables', length: 4 * P }]);
    w.zero(0, 'pc.ram').zero(P, 'pc.ram', 7).page(2 * P, 'pc.ram', page);
    w.xbzrle(3 * P, 'pc.ram', Buffer.from([1, 0, 6, 0x04, 0x02, 0x7f, 0x7f, 0x10, 0x01]).subarray(0, 3 + 6));
    w.zero(0, '/rom@etc/acpi/tables').eos();
    recordSeeds.push({ P, bytes: w.take() });
  }
  // RAM records lifted from the QEMU stream (the RAM section's bodies).
  recordSeeds.push({ P: 4096, bytes: qemu.subarray(4096, 4096 + 32768) });

  const INTERESTING8 = [0, 1, 0x7f, 0x80, 0xff, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x100 & 0xff];
  const INTERESTING32 = [0, 1, 0xffffffff, 0x7fffffff, 0x80000000, 0xffff, 0x10000, 0x1000, 0x4000, 0x1000000, 0x01000001];
  function mutate(src, others) {
    let b = Buffer.from(src);
    const n = 1 + below(4);
    for (let k = 0; k < n; k++) {
      if (b.length === 0) b = Buffer.from([below(256)]);
      const at = below(b.length);
      switch (below(9)) {
        case 0: b[at] ^= 1 << below(8); break;
        case 1: b[at] = INTERESTING8[below(INTERESTING8.length)]; break;
        case 2: if (at + 4 <= b.length) b.writeUInt32BE(INTERESTING32[below(INTERESTING32.length)], at); break;
        case 3: if (at + 4 <= b.length) b.writeUInt32BE((b.readUInt32BE(at) + (below(2) ? 1 : -1)) >>> 0, at); break;
        case 4: { // insert random bytes
          const ins = crypto.randomBytes(1 + below(16)).map(() => below(256));
          b = Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]);
          break;
        }
        case 5: b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + below(64)))]); break; // delete
        case 6: { // duplicate a range
          const len = 1 + below(Math.min(512, b.length - at));
          b = Buffer.concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len)]);
          break;
        }
        case 7: { // splice in another seed's bytes
          const o = others[below(others.length)];
          const from = below(o.length);
          b = Buffer.concat([b.subarray(0, at), o.subarray(from, from + 1 + below(1024)), b.subarray(at)]);
          break;
        }
        case 8: b = b.subarray(0, at); break; // cut
      }
    }
    if (b.length > MAX_INPUT) b = b.subarray(0, MAX_INPUT);
    return b;
  }

  function expose(target, bytes) {
    shared.set(bytes.subarray(0, MAX_INPUT));
    Atomics.store(ctrl, 1, Math.min(bytes.length, MAX_INPUT));
    Atomics.store(ctrl, 2, target === 'stream' ? 0 : 1);
  }

  // --- the checks ---
  async function oneStream(bytes, useInspect) {
    if (useInspect) {
      const r = await inspectStream(bytes);
      for (const e of r.errors) {
        if (e.code !== 'ERR_XBZRLE_STREAM' || typeof e.offset !== 'number' || !(e.offset >= 0)) throw new Error(`inspectStream reported a malformed error ${JSON.stringify(e)}`);
      }
      return r.errors.length;
    }
    try {
      for await (const ev of readMigration(bytes)) void ev;
      return 0;
    } catch (err) {
      if (!(err instanceof StreamError)) throw new Error(`readMigration threw ${err && err.name}: ${err && err.message}`);
      if (!(err.offset >= 0 && err.offset <= bytes.length + 16)) throw new Error(`StreamError offset ${err.offset} outside the ${bytes.length}-byte input`);
      return 1;
    }
  }

  function readAll(bytes, P, cuts) {
    const r = new RecordReader({ pageSize: P });
    const recs = [];
    let error = null;
    try {
      let at = 0;
      for (const c of [...cuts, bytes.length]) {
        for (const x of r.push(bytes.subarray(at, c))) recs.push(`${x.type}:${x.at}:${x.length}:${String(x.offset)}:${x.block}:${x.body ? x.body.length : '-'}:${x.blocks ? x.blocks.length : '-'}`);
        at = c;
      }
      r.end();
    } catch (err) {
      if (!(err instanceof RecordError)) throw new Error(`RecordReader threw ${err && err.name}: ${err && err.message}`);
      if (err.records) for (const x of err.records) recs.push(`${x.type}:${x.at}:${x.length}:${String(x.offset)}:${x.block}:${x.body ? x.body.length : '-'}:${x.blocks ? x.blocks.length : '-'}`);
      error = `${err.reason}@${err.offset}`;
    }
    return { recs, error };
  }

  function oneRecord(bytes, P) {
    const whole = readAll(bytes, P, []);
    const cuts = [];
    for (let i = 0, k = below(6); i < k; i++) cuts.push(below(bytes.length + 1));
    cuts.sort((a, b) => a - b);
    const split = readAll(bytes, P, cuts);
    if (whole.error !== split.error || whole.recs.join('|') !== split.recs.join('|')) {
      throw new Error(`RecordReader differs by chunking (cuts ${cuts}): ${whole.error} vs ${split.error}, ${whole.recs.length} vs ${split.recs.length} records`);
    }
    return whole.error ? 1 : 0;
  }

  async function check(target, bytes, P, useInspect) {
    expose(target, bytes);
    const t0 = performance.now();
    const errors = target === 'stream' ? await oneStream(bytes, useInspect) : oneRecord(bytes, P);
    const ms = performance.now() - t0;
    if (ms > PER_INPUT_MS) throw new Error(`one input took ${ms.toFixed(0)} ms (bound ${PER_INPUT_MS} ms)`);
    return errors;
  }

  const stats = {};
  const fail = (msg) => {
    parentPort.postMessage({ failure: msg });
    return new Promise(() => {}); // the main thread ends the worker
  };

  if (opts.replay.length) {
    for (const dir of opts.replay) {
      const target = path.basename(dir).startsWith('js-record') ? 'record' : 'stream';
      const files = fs.readdirSync(dir).filter((f) => !f.endsWith('.md'));
      stats[`replay ${path.basename(dir)}`] = { execs: 0, errors: 0 };
      for (const f of files) {
        const bytes = fs.readFileSync(path.join(dir, f));
        try {
          for (const P of target === 'record' ? [4096, 1024] : [4096]) {
            stats[`replay ${path.basename(dir)}`].errors += await check(target, bytes, P, false);
            if (target === 'stream') await check(target, bytes, P, true);
          }
        } catch (err) {
          return fail(`${path.join(dir, f)}: ${err.message}`);
        }
        stats[`replay ${path.basename(dir)}`].execs++;
        Atomics.add(ctrl, 0, 1);
      }
    }
    parentPort.postMessage({ done: true, stats });
    return;
  }

  const targets = opts.target === 'all' ? ['stream', 'record'] : [opts.target];
  for (const t of targets) stats[t] = { execs: 0, errors: 0 };
  const allSeeds = [...streamSeeds, ...recordSeeds.map((s) => s.bytes)];
  const end = Date.now() + opts.seconds * 1000;
  let total = 0;
  Atomics.store(ctrl, 3, 1);
  while (Date.now() < end && total < opts.runs) {
    const t = targets[total % targets.length];
    let bytes;
    let P = 4096;
    if (t === 'stream') bytes = mutate(streamSeeds[below(streamSeeds.length)], allSeeds);
    else {
      const s = recordSeeds[below(recordSeeds.length)];
      P = below(8) === 0 ? 1 + below(16384) : s.P;
      bytes = mutate(s.bytes, allSeeds);
    }
    try {
      stats[t].errors += await check(t, bytes, P, t === 'stream' && below(8) === 0);
    } catch (err) {
      return fail(err.message);
    }
    stats[t].execs++;
    total++;
    Atomics.add(ctrl, 0, 1);
    if ((total & 1023) === 0) {
      const mem = process.memoryUsage();
      if (mem.arrayBuffers > MAX_BUFFERS_MB * 2 ** 20) {
        if (global.gc) global.gc();
        const again = process.memoryUsage().arrayBuffers;
        if (again > MAX_BUFFERS_MB * 2 ** 20) return fail(`buffers alive: ${(again / 2 ** 20).toFixed(0)} MiB (bound ${MAX_BUFFERS_MB} MiB)`);
      }
      if ((total & 0xffff) === 0) parentPort.postMessage({ line: `stream-fuzz: ${total} executions, ${Math.round((end - Date.now()) / 1000)}s left` });
    }
  }
  parentPort.postMessage({ done: true, stats });
}
