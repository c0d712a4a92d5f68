#!/usr/bin/env node
// The `trellis` command: compiled JavaScript (`npm run build` writes dist/; `npm install` in a
// clone runs it). Commands load their modules only when they run, so `--version` and `validate`
// start fast; Node ≥ 22.1 also caches the compiled code between runs.
import module from 'node:module';

module.enableCompileCache?.();
const { main } = await import('../dist/main.js');
process.exitCode = await main(process.argv.slice(2));
