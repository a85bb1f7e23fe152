// A CommonJS user of the installed package. Prints one JSON line: which
// binary serves, and whether a page and a QEMU-made pair round-trip.
// XBZRLE_PAIR names a directory holding old.bin, new.bin and enc.bin.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const x = require('xbzrle');

const [oldPage, newPage, enc] = ['old.bin', 'new.bin', 'enc.bin'].map((f) =>
  fs.readFileSync(path.join(process.env.XBZRLE_PAIR, f)),
);
const a = Buffer.alloc(x.PAGE_SIZE);
const b = Buffer.alloc(x.PAGE_SIZE);
b[4095] = 7;
const d = x.encode(a, b);
const pairDelta = x.encode(oldPage, newPage);
console.log(
  JSON.stringify({
    face: 'cjs',
    native: x.native,
    status: x.nativeStatus(),
    kernel: x.kernel(),
    page: d !== null && d.equals(Buffer.from([0xff, 0x1f, 1, 7])) && x.decode(a, d).equals(b),
    pair: pairDelta !== null && pairDelta.equals(enc) && x.decode(oldPage, enc).equals(newPage),
  }),
);
