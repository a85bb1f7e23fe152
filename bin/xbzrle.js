#!/usr/bin/env node
'use strict';
// The `xbzrle` command; the code is in lib/cli (compiled to dist/cli).
require('../dist/cli/main')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  })
  .catch((err) => {
    console.error(`xbzrle: ${err && err.message ? err.message : err}`);
    process.exitCode = 1;
  });
