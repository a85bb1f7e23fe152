// examples/migration.js: a small live migration. The source sends its memory
// raw once, then only the pages the guest dirtied, as XBZRLE records where
// the page cache has the previous copy; the destination applies the stream.
// Run: node examples/migration.js
'use strict';
const { PageCache, MemoryBudget, Sender, Receiver, RecordWriter, RecordReader } = require('..');

const P = 4096;
const PAGES = 1024; // 4 MiB of guest memory
const source = Buffer.alloc(PAGES * P);
for (let i = 0; i < source.length; i++) source[i] = (i * 2654435761) >>> 24;
const dest = Buffer.alloc(PAGES * P);

// One budget for every migration on this host; this cache may use 1 MiB of it.
const budget = new MemoryBudget(16 << 20);
const cache = new PageCache({ size: 1 << 20, budget });
const sender = new Sender({ cache });
const writer = new RecordWriter();
const reader = new RecordReader();
const receiver = new Receiver();

function send(pages, lastStage = false) {
  const addrs = pages.map((p) => p * P);
  const r = sender.sendPagesFrom(source, addrs, { detectZero: true, lastStage, continued: writer.continues('pc.ram') });
  writer.framed(r.data, 'pc.ram');
  // The wire: here the bytes go straight to the reader, in 1000-byte pieces.
  const bytes = writer.take();
  for (let i = 0; i < bytes.length; i += 1000) {
    for (const record of reader.push(bytes.subarray(i, i + 1000))) receiver.receive(dest, record);
  }
  return bytes.length;
}

const all = Array.from({ length: PAGES }, (_, i) => i);
console.log(`pass 0: ${send(all)} bytes (every page raw)`);
sender.nextGeneration();
for (let pass = 1; pass <= 3; pass++) {
  const dirty = [];
  for (let p = 0; p < PAGES; p += 7) {
    source.writeUInt32LE(pass * 1000 + p, p * P + 64); // the guest bumps a counter
    dirty.push(p);
  }
  console.log(`pass ${pass}: ${send(dirty)} bytes for ${dirty.length} dirty pages`);
  sender.nextGeneration();
  console.log('  ', sender.statsQmp());
}
source.fill(7, 0, P); // the last stage: the guest is stopped
send([0], true);
writer.eos();
for (const record of reader.push(writer.take())) receiver.receive(dest, record);
reader.end();
console.log(`destination equals source: ${dest.equals(source)}`);
console.log(`cache: ${JSON.stringify(cache.memoryUsage)}, budget used: ${budget.used} of ${budget.size}`);
cache.close();
if (!dest.equals(source)) process.exit(1);
