// An ES module user of the installed package: named and default imports.
// Same output as consumer.cjs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import xbzrle, { PAGE_SIZE, encode, decode, native, nativeStatus, kernel } from 'xbzrle';

if (xbzrle.encode !== encode) throw new Error('the default export differs from the named ones');
const [oldPage, newPage, enc] = ['old.bin', 'new.bin', 'enc.bin'].map((f) =>
  fs.readFileSync(path.join(process.env.XBZRLE_PAIR, f)),
);
const a = Buffer.alloc(PAGE_SIZE);
const b = Buffer.alloc(PAGE_SIZE);
b[4095] = 7;
const d = encode(a, b);
const pairDelta = encode(oldPage, newPage);
console.log(
  JSON.stringify({
    face: 'esm',
    native,
    status: nativeStatus(),
    kernel: kernel(),
    page: d !== null && d.equals(Buffer.from([0xff, 0x1f, 1, 7])) && decode(a, d).equals(b),
    pair: pairDelta !== null && pairDelta.equals(enc) && decode(oldPage, enc).equals(newPage),
  }),
);
