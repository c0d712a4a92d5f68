#!/usr/bin/env node
/**
 * `npm run build` (also run by `npm install` in a clone, through `prepare`): compiles every
 * package to its dist/ folder and assembles what the `trellis` package ships.
 *
 * 1. `tsc -b tsconfig.build.json`: each package's src/ → dist/ (.js, .d.ts, source maps), in
 *    dependency order through project references; incremental, so a second build is quick.
 * 2. The examples the `trellis` command carries (the demo agents, the MCP server and the demo
 *    services, compiled; example and demo workflows, copied) → packages/cli/dist/examples.
 * 3. The web console (Vite) → packages/console/dist.
 *
 * `--no-console` skips step 3 (for a quick rebuild of the libraries).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const step = (what, args, cwd = root) => {
  const t = performance.now();
  execFileSync(process.execPath, args, { cwd, stdio: 'inherit' });
  process.stdout.write(`build: ${what} (${Math.round(performance.now() - t)} ms)\n`);
};

step('packages', [tsc, '-b', 'tsconfig.build.json']);

step('examples', [tsc, '-p', 'packages/cli/tsconfig.examples.json']);
const out = join(root, 'packages', 'cli', 'dist', 'examples');
for (const sub of ['', 'demo']) {
  const from = join(root, 'examples', sub);
  mkdirSync(join(out, sub), { recursive: true });
  for (const name of readdirSync(from)) {
    if (/\.(json|ya?ml)$/.test(name)) copyFileSync(join(from, name), join(out, sub, name));
  }
}

if (!process.argv.includes('--no-console')) {
  step(
    'console',
    [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'],
    join(root, 'packages', 'console'),
  );
}
