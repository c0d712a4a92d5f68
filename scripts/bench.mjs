#!/usr/bin/env node
// `npm run bench`: runs every benchmark (bench/*.ts, each in its own process so figures do not
// disturb each other), printing their tables; each writes JSON to bench/results/<name>.json.
// `npm run bench -- runtime` runs only the benchmarks whose file name contains "runtime".
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = join(import.meta.dirname, '..', 'bench');
const filter = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const passthrough = process.argv.slice(2).filter((a) => a.startsWith('-'));
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.includes('-waiting'))
  .filter((f) => filter.length === 0 || filter.some((x) => f.includes(x)))
  .sort();
// Benchmarks of the installed command and server run the compiled packages: build them first
// (incremental; the console is not needed).
const built = spawnSync(process.execPath, [join(import.meta.dirname, 'build.mjs'), '--no-console'], { stdio: 'inherit' });
if (built.status !== 0) process.exit(1);
let failed = 0;
for (const f of files) {
  process.stdout.write(`\n=== ${f} ===\n`);
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(dir, f), ...passthrough], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    process.stderr.write(`bench ${f} failed (exit ${r.status})\n`);
  }
}
process.exit(failed ? 1 : 0);
