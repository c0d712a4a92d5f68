#!/usr/bin/env node
// Dependencies point one way: core ← store ← runtime ← connectors ← server ← cli; the API
// schemas and typed client (client) depend on core only and are used by server, console and cli;
// console depends on core and client. The core has no I/O. This check fails when an import breaks that.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const allowed = {
  core: [],
  store: ['core'],
  runtime: ['core', 'store'],
  connectors: ['core', 'runtime', 'store'],
  client: ['core'],
  server: ['core', 'store', 'runtime', 'connectors', 'client'],
  console: ['core', 'client'],
  cli: ['core', 'store', 'runtime', 'connectors', 'server', 'client'],
};
// Modules the core may not import: it performs no I/O and does not touch the process.
const coreForbidden =
  /^(node:)?(fs|fs\/promises|net|http|https|http2|child_process|worker_threads|dgram|dns|tls|cluster|os|process)$/;

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else if (/\.(ts|tsx|mts)$/.test(name)) yield p;
  }
}

const problems = [];
for (const [pkg, deps] of Object.entries(allowed)) {
  const dir = join('packages', pkg, 'src');
  let list;
  try {
    list = [...files(dir)];
  } catch {
    continue;
  }
  for (const file of list) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
      const spec = m[1] ?? m[2];
      const t = /^@trellis\/([a-z-]+)/.exec(spec);
      if (t && t[1] !== pkg && !deps.includes(t[1]))
        problems.push(`${file}: imports @trellis/${t[1]}, which ${pkg} may not depend on`);
      if (pkg === 'core' && coreForbidden.test(spec)) problems.push(`${file}: the core performs no I/O but imports '${spec}'`);
      if (spec.startsWith('../') && /packages\//.test(spec))
        problems.push(`${file}: reaches into another package by path ('${spec}')`);
    }
  }
}
if (problems.length) {
  console.error(`Dependency direction violated:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('dependency direction: ok');
