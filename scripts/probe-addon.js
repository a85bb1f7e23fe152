// Loads one addon binary directly (no package around it) and prints, as one
// JSON line, the kernels it runs and whether every kernel encodes a few page
// pairs byte for byte like the portable (scalar) kernel. The release check
// runs it with the binary's own Node: this Node for x64, the registry's arm64
// Node under qemu-aarch64 for arm64.
//
//   node scripts/probe-addon.js prebuilds/linux-x64/xbzrle.glibc.node
'use strict';
const addon = require(require('node:path').resolve(process.argv[2]));

const PAGE = 4096;
function pairs() {
  const out = [];
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  for (const changed of [1, 16, 512, 410, 2048, 4096]) {
    const a = new Uint8Array(PAGE).map(rand);
    const b = new Uint8Array(a);
    for (let i = 0; i < changed; i++) b[(i * 7919 + changed) % PAGE] ^= (rand() | 1);
    out.push([a, b]);
  }
  return out;
}

function encodeAll(kernel) {
  if (!addon.useKernel(kernel)) throw new Error(`useKernel(${kernel}) refused`);
  return pairs().map(([a, b]) => {
    const buf = new Uint8Array(2 * PAGE);
    const n = addon.encodeInto(a, b, buf, buf.length);
    return Buffer.from(buf.subarray(0, Math.max(n, 0))).toString('hex') + `/${n}`;
  });
}

const kernels = addon.kernels().filter((k) => k !== 'js');
const reference = encodeAll('portable');
const identical = {};
for (const k of kernels) identical[k] = encodeAll(k).every((e, i) => e === reference[i]);
console.log(JSON.stringify({ arch: process.arch, node: process.version, kernels, identical }));
