#!/usr/bin/env node
'use strict';
// The `xbzrle` command; the code is in lib/cli (compiled to dist/cli). main()
// reports its own errors; this catch only sees a failure to load it.
require('../dist/cli/main')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  })
  .catch((err) => {
    const msg = String(err && err.message ? err.message : err);
    console.error(/^xbzrle\b/.test(msg) ? msg : `xbzrle: ${msg}`);
    process.exitCode = 1;
  });
