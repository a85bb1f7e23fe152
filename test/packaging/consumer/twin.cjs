// Loads the package three ways in one process (require, import(), and a
// second copy of the package at XBZRLE_COPY) and prints what each reports:
// the twin warning must still appear only once.
'use strict';
const x = require('xbzrle');
(async () => {
  const esm = await import('xbzrle');
  const copy = require(process.env.XBZRLE_COPY);
  const a = Buffer.alloc(4096);
  const b = Buffer.alloc(4096);
  b[0] = 1;
  const d = x.encode(a, b);
  console.log(
    JSON.stringify({
      native: [x.native, esm.native, copy.native],
      status: x.nativeStatus(),
      copyStatus: copy.nativeStatus(),
      kernel: x.kernel(),
      ok: d !== null && esm.decode(a, d).equals(b) && copy.decode(a, d).equals(b),
    }),
  );
})();
