/**
 * The documentation stands alone: it never points at a file a reader of the repository cannot
 * open (no "SPEC §" references), every Markdown link resolves, and every path written in
 * backticks (`packages/…/x.ts`, `src/app.ts`, `bench/compile.ts`) names a file or folder that exists.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const DOCS = [
  join(ROOT, 'README.md'),
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(ROOT, 'docs', f)),
];
const PACKAGES = readdirSync(join(ROOT, 'packages')).map((p) => join(ROOT, 'packages', p));

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const m of markdown.matchAll(/^#+\s+(.*)$/gm)) {
    out.add(
      m[1]!
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, '')
        .replace(/ /g, '-'),
    );
  }
  return out;
}

/** A path mentioned in a page may be relative to the page, the repository, a package or its src/test folder. */
function resolvable(page: string, ref: string): boolean {
  const bases = [
    dirname(page),
    ROOT,
    join(ROOT, 'packages'),
    ...PACKAGES,
    ...PACKAGES.flatMap((p) => [join(p, 'src'), join(p, 'test'), join(p, 'src', 'compiler')]),
  ];
  return bases.some((b) => existsSync(join(b, ref)));
}

describe('docs and README', () => {
  for (const page of DOCS) {
    const name = page.slice(ROOT.length + 1);
    const text = readFileSync(page, 'utf8');

    it(`${name} cites no file outside the repository`, () => {
      expect(text).not.toMatch(/SPEC\s*§|SPEC\.md|\.\.\/shared\//);
    });

    it(`${name}: every link resolves`, () => {
      const broken: string[] = [];
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/.test(target)) continue; // https:, mailto:
        const [file, anchor] = target.split('#') as [string, string | undefined];
        const path = file === '' ? page : join(dirname(page), file);
        if (!existsSync(path)) {
          broken.push(target);
          continue;
        }
        if (anchor && path.endsWith('.md') && !anchors(readFileSync(path, 'utf8')).has(anchor)) broken.push(target);
      }
      expect(broken).toEqual([]);
    });

    it(`${name}: every path in backticks exists`, () => {
      const missing: string[] = [];
      for (const m of text.matchAll(/`([\w@.-]+(?:\/[\w@.*-]+)+\/?)`/g)) {
        const ref = m[1]!;
        // bench/results/ is what `npm run bench` writes, not part of the repository.
        if (
          ref.includes('*') ||
          ref.startsWith('@') ||
          ref.startsWith('bench/results') ||
          !/\.(ts|tsx|md|json|mjs|yaml|png)$|\/$/.test(ref)
        )
          continue;
        if (!resolvable(page, ref)) missing.push(ref);
      }
      expect(missing).toEqual([]);
    });
  }
});
