/** One test per SPEC §2 code, each on its example in examples/invalid/<CODE>.json. */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/index.ts';

const dir = new URL('../../../examples/invalid/', import.meta.url);
const SPEC_CODES = [
  'SCHEMA',
  'DUPLICATE_NODE_ID',
  'INVALID_NODE_ID',
  'INVALID_NODE_TYPE',
  'MISSING_FIELD',
  'UNKNOWN_NODE_REFERENCE',
  'CYCLE',
  'UNREACHABLE_NODE',
  'UNKNOWN_BINDING_REFERENCE',
  'BINDING_NOT_UPSTREAM',
  'EXPRESSION_SYNTAX',
  'INVALID_EDGE',
] as const;

describe('one invalid example per error code', () => {
  it('has an example for every SPEC code and no other', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.map((f) => f.replace('.json', '')).sort()).toEqual([...SPEC_CODES].sort());
  });

  for (const code of SPEC_CODES) {
    it(`${code}: reported with a path, the nodes involved and a message`, () => {
      const def = JSON.parse(readFileSync(new URL(`${code}.json`, dir), 'utf8'));
      const r = compile(def);
      expect(r.ok).toBe(false);
      // the example shows this code and only this code
      expect(new Set(r.errors.map((e) => e.code))).toEqual(new Set([code]));
      for (const e of r.errors) {
        expect(e.path).toMatch(/^\//);
        expect(e.message).not.toMatch(/\n|at .*\.ts:\d+/); // one line, no stack trace
        if (code !== 'SCHEMA') expect(e.nodes?.length).toBeGreaterThan(0);
      }
    });
  }

  it('CYCLE lists the cycle in edge order', () => {
    const r = compile(JSON.parse(readFileSync(new URL('CYCLE.json', dir), 'utf8')));
    expect(r.errors[0]?.nodes).toEqual(['b', 'c', 'a']);
  });

  it('every valid example compiles', async () => {
    const { parseDefinitionText } = await import('../src/index.ts');
    const root = new URL('../../../examples/', import.meta.url);
    const files = readdirSync(root).filter((f) => /\.(json|ya?ml)$/.test(f) && !f.endsWith('.input.json'));
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const f of files) {
      const parsed = parseDefinitionText(readFileSync(new URL(f, root), 'utf8'), f);
      if (!parsed.ok) throw new Error(parsed.message);
      const r = compile(parsed.value);
      expect({ f, errors: r.errors }).toEqual({ f, errors: [] });
    }
  });
});
