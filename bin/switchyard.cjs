#!/usr/bin/env node
// The `switchyard` command (package.json "bin"): the CLI is TypeScript run through tsx, which this
// registers before loading it, as the console's worker thread does (server/control-plane/boot.cjs).
require("tsx/cjs");
require("../cli/main.ts").main();
