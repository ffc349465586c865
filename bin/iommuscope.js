#!/usr/bin/env node
'use strict';
require('../dist/main/node/cli/main.js')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
    // The run is over and its summary printed: a handle left open (a socket a
    // client keeps alive, a watcher) must not keep the process from exiting.
    setTimeout(() => process.exit(code), 2000).unref();
  });
