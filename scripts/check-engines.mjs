#!/usr/bin/env node
// Each package's `engines.node` must be truthful: no Node version it admits may be refused by a
// package it installs (its production dependencies, transitively, as package-lock.json resolves
// them). Prints, per package, the dependencies that narrow the range; fails when a declared range
// admits a version a dependency refuses.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const semver = createRequire(import.meta.url)('semver');
const root = join(import.meta.dirname, '..');
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')).packages;

/** The lock entry a dependency `name` of the package at `from` resolves to (Node's lookup). */
function resolve(from, name) {
  for (let dir = from; ; dir = dirname(dir)) {
    const key = `${dir === '.' || dir === '' ? '' : `${dir}/`}node_modules/${name}`;
    if (lock[key]) return key;
    if (dir === '.' || dir === '' || dir === '/') return undefined;
  }
}

const problems = [];
for (const [path, entry] of Object.entries(lock)) {
  if (!path.startsWith('packages/') || path.includes('node_modules')) continue;
  const pkg = JSON.parse(readFileSync(join(root, path, 'package.json'), 'utf8'));
  const declared = pkg.engines?.node;
  const seen = new Set();
  const narrowing = [];
  const visit = (from, deps) => {
    for (const name of Object.keys(deps ?? {})) {
      let key = resolve(from, name);
      if (!key) continue;
      let e = lock[key];
      if (e.link) {
        key = e.resolved;
        e = lock[key];
      }
      if (seen.has(key)) continue;
      seen.add(key);
      const range = e.engines?.node;
      if (range && declared && !semver.subset(declared, range, { includePrerelease: false })) {
        narrowing.push(`${name}@${e.version} needs node ${range}`);
      }
      visit(key, { ...e.dependencies, ...e.optionalDependencies });
    }
  };
  visit(path, { ...entry.dependencies, ...entry.optionalDependencies });
  if (!declared) problems.push(`${pkg.name}: no engines.node`);
  for (const n of narrowing) problems.push(`${pkg.name} declares node ${declared}, but ${n}`);
}
if (problems.length) {
  console.error(`engines not truthful:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('engines: ok');
