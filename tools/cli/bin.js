#!/usr/bin/env node
// The `orchestra` command: the CLI's TypeScript run through SWC, as `npm run orchestra` does.
require('@swc-node/register');
require('./main.ts')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
