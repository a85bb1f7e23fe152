// Runs QEMU's vectors (XBZRLE_FIXTURES/pairs.bin, format in
// test/fixtures/README.md) through every kernel the installed package lists,
// and checks each native kernel against the portable one on every pair.
// Prints one JSON line.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const x = require('xbzrle');

const buf = fs.readFileSync(path.join(process.env.XBZRLE_FIXTURES, 'pairs.bin'));
if (buf.toString('latin1', 0, 8) !== 'XBZVEC01') throw new Error('pairs.bin: bad magic');
const count = buf.readUInt32LE(8);
const pageSize = buf.readUInt32LE(12);
const pairs = [];
let o = 16;
for (let k = 0; k < count; k++) {
  const scalarRet = buf.readInt32LE(o + 8);
  const avx512Ret = buf.readInt32LE(o + 12);
  const unboundedRet = buf.readInt32LE(o + 16);
  o += 20;
  const take = (n) => buf.subarray(o, (o += n));
  const oldPage = take(pageSize);
  const newPage = take(pageSize);
  const scalarEnc = take(Math.max(scalarRet, 0));
  take(Math.max(avx512Ret, 0));
  const unboundedEnc = take(unboundedRet);
  pairs.push({ scalarRet, oldPage, newPage, scalarEnc, unboundedEnc });
}
if (o !== buf.length) throw new Error('pairs.bin: trailing bytes');

const selected = x.kernel(); // the kernel the addon picked for this CPU
const kernels = x.kernels();
const failures = {}; // kernel -> pairs whose encoding or decoding is not QEMU's
const outputs = {}; // kernel -> encodings, to compare against portable
for (const k of kernels) {
  x.useKernel(k);
  failures[k] = 0;
  outputs[k] = [];
  for (const p of pairs) {
    const enc = x.encode(p.oldPage, p.newPage);
    outputs[k].push(enc);
    const encOk = p.scalarRet >= 0 ? enc !== null && enc.equals(p.scalarEnc) : true;
    const decOk = x.decode(p.oldPage, p.unboundedEnc).equals(p.newPage);
    if (!encOk || !decOk) failures[k]++;
  }
}
const same = (a, b) => (a === null ? b === null : b !== null && a.equals(b));
const equalsPortable = {};
if (outputs.portable) {
  for (const k of kernels) equalsPortable[k] = outputs[k].every((e, i) => same(e, outputs.portable[i]));
}
console.log(
  JSON.stringify({ source: x.nativeStatus().source, path: x.nativeStatus().path, arch: process.arch, node: process.version, pairs: pairs.length, selected, kernels, failures, equalsPortable }),
);
