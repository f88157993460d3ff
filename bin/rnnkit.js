#!/usr/bin/env node
'use strict';
// The `rnnkit` command; its sources are lib/cli/*.ts (built to dist/cli).
require('../dist/cli/main.js')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
