/**
 * What the `trellis` package carries besides code, found from this package's own location (the
 * same from `src/` and from `dist/`, both one level below the package root) or through package
 * resolution — never by walking into sibling folders of a repository:
 *
 * - the web console: the build of `@trellis/console` (a dependency), its `dist/` folder;
 * - the examples, compiled into `dist/examples/` by the build: example workflows (built-in
 *   templates), the demo workflows (`demo/*.json`) and the demo services (`demo/services.js`:
 *   A2A agents and an MCP server on loopback).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DemoServices } from '@trellis/server';

const PACKAGE_ROOT = new URL('../', import.meta.url);

/** The example workflows shipped with the command (`dist/examples`), or undefined if not built. */
export function examplesDir(): string | undefined {
  const dir = fileURLToPath(new URL('dist/examples/', PACKAGE_ROOT));
  return existsSync(dir) ? dir : undefined;
}

/** The built console (`@trellis/console`'s `dist/`), or false when it is not installed or not built. */
export function consoleDir(): string | false {
  try {
    const pkg = createRequire(import.meta.url).resolve('@trellis/console/package.json');
    const dir = join(dirname(pkg), 'dist');
    return existsSync(join(dir, 'index.html')) ? dir : false;
  } catch {
    return false;
  }
}

/** Starts the demo agents and MCP server (compiled JavaScript shipped in `dist/examples/demo`). */
export async function startDemoServices(): Promise<DemoServices> {
  const url = new URL('dist/examples/demo/services.js', PACKAGE_ROOT);
  if (!existsSync(url)) {
    throw new Error(`the demo services are missing (${fileURLToPath(url)}); in a clone of the repository run \`npm run build\``);
  }
  const mod = (await import(url.href)) as { startDemoServices?: () => Promise<DemoServices> };
  if (typeof mod.startDemoServices !== 'function') throw new Error(`${fileURLToPath(url)} does not export startDemoServices`);
  return mod.startDemoServices();
}
