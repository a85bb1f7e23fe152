#!/usr/bin/env node
// make-seeds.js OUTDIR: writes the seed corpus of every target listed in
// native/fuzz/targets into OUTDIR/NAME/, made at build time from the QEMU
// vectors in test/fixtures (pairs.bin, malformed.bin; format in
// test/fixtures/README.md) plus the target's regression inputs. Nothing here
// is committed: the seeds are a few MB and cheap to remake.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..', '..');
const fixtures = path.join(root, 'test', 'fixtures');
const outDir = process.argv[2];
if (!outDir) {
  console.error('usage: make-seeds.js OUTDIR');
  process.exit(2);
}

function readPairs() {
  const buf = fs.readFileSync(path.join(fixtures, 'pairs.bin'));
  if (buf.toString('latin1', 0, 8) !== 'XBZVEC01') throw new Error('pairs.bin: bad magic');
  const count = buf.readUInt32LE(8);
  const P = buf.readUInt32LE(12);
  const out = [];
  let o = 16;
  const take = (n) => buf.subarray(o, (o += n));
  for (let k = 0; k < count; k++) {
    const id = buf.readUInt32LE(o);
    const scalarRet = buf.readInt32LE(o + 8);
    const avx512Ret = buf.readInt32LE(o + 12);
    const unboundedRet = buf.readInt32LE(o + 16);
    o += 20;
    const oldPage = take(P);
    const newPage = take(P);
    take(Math.max(scalarRet, 0));
    take(Math.max(avx512Ret, 0));
    const enc = take(unboundedRet);
    out.push({ id, P, oldPage, newPage, enc });
  }
  return out;
}

function readMalformed() {
  const buf = fs.readFileSync(path.join(fixtures, 'malformed.bin'));
  if (buf.toString('latin1', 0, 8) !== 'XBZMAL01') throw new Error('malformed.bin: bad magic');
  const count = buf.readUInt32LE(8);
  const P = buf.readUInt32LE(12);
  const out = [];
  let o = 16;
  for (let k = 0; k < count; k++) {
    const id = buf.readUInt32LE(o);
    const len = buf.readUInt32LE(o + 4);
    o += 12;
    out.push({ id, P, src: buf.subarray(o, o + len) });
    o += len + P;
  }
  return out;
}

const u16 = (v) => [v & 0xff, (v >> 8) & 0xff];
// Selectors that give exactly `value` in the targets (value <= modulus).
const sizeSel = (P) => P - 1; // size = sel % 16384 + 1

// Each generator yields [name, bytes] seeds in the input format of the
// targets that use it (see the comment at the top of each fuzz_*.cc).
const generators = {
  // fuzz_decode: u16 size selector, u8 page seed, delta.
  *deltas() {
    const head = (P, seed) => Buffer.from([...u16(sizeSel(P)), seed]);
    for (const m of readMalformed()) yield [`malformed-${m.id}`, Buffer.concat([head(m.P, m.id), m.src])];
    for (const p of readPairs()) {
      if (p.enc.length === 0) continue;
      yield [`pair-${p.id}`, Buffer.concat([head(p.P, p.id), p.enc])];
      // The same delta on a page one byte short: runs that end at the page
      // end now go past it.
      yield [`pair-${p.id}-short`, Buffer.concat([head(p.P - 1, p.id), p.enc])];
    }
    // Hand-made: the largest page with runs at the two-byte ULEB128 limit.
    const big = 16384;
    yield ['max-zero-run', Buffer.concat([head(big, 1), Buffer.from([0xff, 0x7f, 0x01, 0xaa])])];
    yield ['max-data-run', Buffer.concat([head(big, 2), Buffer.from([0x00, 0xff, 0x7f]), Buffer.alloc(16383, 0x5a)])];
    yield ['tiny-page', Buffer.concat([head(1, 3), Buffer.from([0x00, 0x01, 0x42])])];
  },
  // fuzz_decode_overlap: u16 size selector, u16 offset of the delta in the
  // page's buffer, u8 page seed, delta.
  *overlap() {
    const head = (P, off, seed) => Buffer.from([...u16(sizeSel(P)), ...u16(off), seed]);
    for (const m of readMalformed()) yield [`malformed-${m.id}`, Buffer.concat([head(m.P, 0, m.id), m.src])];
    for (const p of readPairs()) {
      const n = p.enc.length;
      if (n === 0) continue;
      yield [`pair-${p.id}-at0`, Buffer.concat([head(p.P, 0, p.id), p.enc])];
      yield [`pair-${p.id}-mid`, Buffer.concat([head(p.P, Math.max(0, p.P - (n >> 1)), p.id), p.enc])];
    }
  },
  // fuzz_encode: u16 size sel, u16 limit sel, u8 flags, 3 pads, data.
  *pairs() {
    const head = (P, limit, flags, pads = [0, 0, 0]) =>
      Buffer.from([...u16(sizeSel(P)), ...u16(limit ?? 0), flags | (limit === null ? 0x80 : 0), ...pads]);
    for (const p of readPairs()) {
      const raw = Buffer.concat([p.oldPage, p.newPage]);
      yield [`pair-${p.id}`, Buffer.concat([head(p.P, null, 0), raw])];
      const n = p.enc.length;
      if (n > 0 && n <= p.P) yield [`pair-${p.id}-fit`, Buffer.concat([head(p.P, n, 0, [1, 2, 3]), raw])];
      if (n > 0 && n - 1 <= p.P) yield [`pair-${p.id}-over`, Buffer.concat([head(p.P, n - 1, 0, [5, 0, 7]), raw])];
    }
    // Patch mode: runs at the ULEB128 boundary on random and zero pages.
    const op = (at, len, v, set = false) => [...u16((at & 0x7fff) | (set ? 0x8000 : 0)), len - 1, v];
    yield ['patch-127', Buffer.from([...u16(4095), 0, 0, 0x81, 0, 0, 0, ...op(0, 127, 9)])];
    yield ['patch-128', Buffer.from([...u16(4095), 0, 0, 0x82, 0, 0, 0, ...op(128, 128, 9), ...op(4095, 1, 3)])];
    yield ['patch-big', Buffer.from([...u16(16383), 0, 0, 0x81, 0, 0, 0, ...op(16383, 1, 1), ...op(0, 256, 4)])];
    yield ['comb-2', Buffer.from([...u16(4095), 0, 0, 0x83, 0, 0, 0, 1, 0, 0, 0xff])];
  },
  // fuzz_cache_sequence: u8 page-size sel, u8 geometry, u8 budget, u8 limit,
  // u8 guest pages, u8 kernel, then operations (see fuzz_cache_sequence.cc).
  *sequences() {
    let x = 0x12345678;
    const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 16) & 0xff;
    const sizes = 14; // entries of kSizes
    for (let k = 0; k < 48; k++) {
      const ops = [];
      for (let i = 0; i < 40; i++) {
        const op = rnd() & 7;
        if (op === 0) ops.push(0, rnd(), rnd(), rnd(), rnd(), rnd(), rnd(), rnd());
        else if (op === 1) ops.push(1 | ((rnd() & 2) << 3), rnd());
        else if (op === 3) ops.push(3, rnd());
        else if (op === 6) ops.push(6 | ((rnd() & 6) << 3), rnd(), rnd());
        else if (op === 2 || (rnd() & 3) === 0) ops.push(op);
        else ops.push(2);
      }
      const head = [k % sizes, rnd(), k % 3 === 0 ? rnd() : 0, k % 4 === 0 ? rnd() : 0, rnd(), k];
      yield [`random-${k}`, Buffer.from([...head, ...ops])];
    }
    // Two passes of 4 KiB pages: raw, then XBZRLE, a batch, the last stage.
    yield ['two-passes', Buffer.from([11, 3, 0, 0, 8, 0, 1, 0, 1, 1, 2, 0, 0, 0, 1, 0, 9, 1, 1, 2, 0, 1, 2, 0, 7, 1, 6, 0, 4, 6 | 8, 0, 8])];
  },
};

const targets = fs
  .readFileSync(path.join(__dirname, 'targets'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'))
  .map((l) => l.replace(/^!/, '').split(/\s+/));

for (const [name, gens = '-'] of targets) {
  const dir = path.join(outDir, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  let n = 0;
  for (const g of gens === '-' ? [] : gens.split(',')) {
    if (!generators[g]) throw new Error(`targets: ${name} names unknown seed generator "${g}"`);
    for (const [seed, bytes] of generators[g]()) {
      fs.writeFileSync(path.join(dir, `${g}-${seed}`), bytes);
      n++;
    }
  }
  const reg = path.join(root, 'test', 'fixtures', 'fuzz-regressions', name);
  if (fs.existsSync(reg)) {
    for (const f of fs.readdirSync(reg)) {
      if (f.startsWith('.') || f.endsWith('.md')) continue;
      fs.copyFileSync(path.join(reg, f), path.join(dir, `regression-${f}`));
      n++;
    }
  }
  console.log(`make-seeds: ${name}: ${n} seeds in ${path.relative(root, dir)}`);
}
