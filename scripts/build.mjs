#!/usr/bin/env node
/**
 * `npm run build` (also run by `npm install` in a clone, through `prepare`): compiles every
 * package to its dist/ folder and assembles what the `trellis` package ships.
 *
 * 1. `tsc -b tsconfig.build.json`: each package's src/ → dist/ (.js, .d.ts, source maps), in
 *    dependency order through project references; incremental, so a second build is quick.
 * 2. `trellis validate` bundled into one file (esbuild), so the command people run in editors and
 *    hooks starts in one module load.
 * 3. The examples the `trellis` command carries (the demo agents, the MCP server and the demo
 *    services, compiled; example and demo workflows, copied) → packages/cli/dist/examples.
 * 4. The web console (Vite) → packages/console/dist.
 *
 * `--no-console` skips step 4 (for a quick rebuild of the libraries).
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

// `trellis validate` as one module (see packages/cli/src/commands/index.ts): esbuild bundles the
// compiled command with the core and its libraries (zod, jsonata, yaml, croner); a Node ESM
// bundle of CommonJS code needs a `require`, which the banner provides.
{
  const t = performance.now();
  const { build } = await import('esbuild');
  await build({
    entryPoints: [join(root, 'packages/cli/dist/commands/validate.js')],
    outfile: join(root, 'packages/cli/dist/commands/validate.bundle.js'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20.19',
    minify: true,
    sourcemap: true,
    legalComments: 'linked',
    external: ['@trellis/client'],
    banner: {
      js: "import { createRequire as __trellisRequire } from 'node:module'; const require = __trellisRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
  process.stdout.write(`build: validate bundle (${Math.round(performance.now() - t)} ms)\n`);
}

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
