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
    console.error(`xbzrle: ${err && err.message ? err.message : err}`);
    process.exitCode = 1;
  });
