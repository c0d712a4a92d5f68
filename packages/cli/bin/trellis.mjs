#!/usr/bin/env node
// The `trellis` command. TypeScript sources run through tsx's loader, so a clone works right
// after `npm install` with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv.slice(2));
