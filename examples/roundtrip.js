// examples/roundtrip.js: encode a page that changed a little, send the delta,
// apply it on the other side. Run: node examples/roundtrip.js
'use strict';
const { encode, decodeInto, kernel, native, PAGE_SIZE } = require('..');

// The sender's cached copy of a page, and the page as the guest left it.
const cached = Buffer.alloc(PAGE_SIZE);
for (let i = 0; i < PAGE_SIZE; i++) cached[i] = (i * 31) & 0xff;
const current = Buffer.from(cached);
current.write('hello, migration', 100); // a 16-byte write
current[4095] ^= 0xff; // and the last byte

const delta = encode(cached, current);
console.log(`engine: ${native ? 'native addon' : 'TypeScript twin'}, kernel ${kernel()}`);
console.log(`delta: ${delta.length} bytes instead of ${PAGE_SIZE}: ${delta.toString('hex')}`);

// The receiver holds the old copy and applies the delta in place.
const received = Buffer.from(cached);
const covered = decodeInto(delta, received);
console.log(`applied: ${covered} bytes covered; pages equal: ${received.equals(current)}`);
if (!received.equals(current)) process.exit(1);
