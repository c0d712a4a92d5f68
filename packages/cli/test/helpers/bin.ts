/**
 * How the tests run the `trellis` command: from its TypeScript sources through tsx, with the
 * `@trellis/source` condition (vitest.config.ts puts it in NODE_OPTIONS), so they need no build
 * and always exercise the code as it is. The installed command (`bin/trellis.mjs` → `dist/`) is
 * exercised by the packaging test, outside the repository.
 */
import { fileURLToPath } from 'node:url';

/** `spawn(process.execPath, [...TRELLIS, 'validate', file])` runs `trellis validate file`. */
export const TRELLIS: readonly string[] = [
  '--conditions=@trellis/source',
  '--import',
  'tsx',
  fileURLToPath(new URL('../../src/bin.ts', import.meta.url)),
];
