/**
 * `npm install` on the oldest Node the repository declares (20.19) gets no EBADENGINE warning from
 * a dependency: every installed package in the lockfile accepts it (cookie 2 needs Node 22, so light-my-request's cookie
 * is overridden to 1.1.1, which has the same API it uses). A new dependency that needs a newer
 * Node fails here, with its name, instead of warning users.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const lock = JSON.parse(readFileSync(resolve(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[] }>;
};
const declared = (JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;

describe('engines', () => {
  it('the project declares Node >= 20.19', () => {
    expect(semver.minVersion(declared)?.version).toBe('20.19.0');
  });

  for (const node of ['20.19.0', '22.13.0', '24.0.0']) {
    it(`every locked dependency accepts Node ${node}`, () => {
      const refusing = Object.entries(lock.packages)
        // Dependencies only: our own packages' ranges are checked by scripts/check-engines.mjs (check:deps).
        .filter(([path]) => path.startsWith('node_modules/') || path.includes('/node_modules/'))
        .filter(([, p]) => p.engines && !Array.isArray(p.engines) && p.engines.node)
        .filter(([, p]) => !semver.satisfies(node, (p.engines as { node: string }).node))
        .map(([path, p]) => `${path}@${p.version} needs node ${(p.engines as { node: string }).node}`);
      expect(refusing).toEqual([]);
    });
  }

  it('the README states the Node versions the server and the command declare', () => {
    const readme = readFileSync(resolve(ROOT, 'README.md'), 'utf8');
    const line = /^Requirements: Node\.js [^\n]*(?:\n[^\n]+)*/m.exec(readme)?.[0] ?? '';
    for (const pkg of ['server', 'cli']) {
      const range = (
        JSON.parse(readFileSync(resolve(ROOT, `packages/${pkg}/package.json`), 'utf8')) as { engines: { node: string } }
      ).engines.node;
      const min = semver.minVersion(range)?.major;
      // Whatever the README promises for the server and the command, the declared range accepts.
      expect(line).toContain(`Node ${min}`);
      if (!semver.satisfies('20.19.0', range)) expect(line).toMatch(/EBADENGINE/);
    }
  });
});
