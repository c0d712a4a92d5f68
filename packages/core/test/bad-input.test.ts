/** The bad-input list, at the compiler: a clear error or a correct result, never a crash. */
import { describe, expect, it } from 'vitest';
import { compile, parseDefinitionText } from '../src/index.ts';

describe('bad input', () => {
  it('non-objects and empty documents are SCHEMA errors', () => {
    for (const v of [null, 42, 'text', [], undefined]) {
      const r = compile(v);
      expect(r.errors).toMatchObject([{ code: 'SCHEMA', path: '' }]);
    }
    expect(compile({}).errors.map((e) => e.path)).toEqual(['/name', '/nodes']);
  });

  it('empty text and text that is neither JSON nor YAML are refused with a message', () => {
    expect(parseDefinitionText('  \n', 'x.json')).toMatchObject({ ok: false, code: 'FILE_EMPTY' });
    const bad = parseDefinitionText('{ "name": "x", }', 'x.json');
    expect(bad).toMatchObject({ ok: false, code: 'PARSE_ERROR' });
    expect(!bad.ok && bad.message).toMatch(/not valid JSON.*line 1, column/);
    expect(parseDefinitionText('a: [1, 2', 'x.yaml')).toMatchObject({ ok: false, code: 'PARSE_ERROR' });
    expect(parseDefinitionText('name: x\nnodes: []', 'noext')).toMatchObject({ ok: true, format: 'yaml' });
  });

  it('a 10,000-character node id is INVALID_NODE_ID with a short message', () => {
    const id = 'a'.repeat(10_000);
    const r = compile({ name: 'x', nodes: [{ id, type: 'parallel' }] });
    expect(r.errors.map((e) => e.code)).toEqual(['INVALID_NODE_ID']);
    expect(JSON.stringify(r.errors).length).toBeLessThan(600);
  });

  it('ids that would collide with the scope object or JSONata are reserved', () => {
    for (const id of ['__proto__', 'constructor', 'hasOwnProperty', 'context', 'run', 'count', 'now']) {
      const r = compile({ name: 'x', nodes: [{ id, type: 'parallel' }] });
      expect({ id, codes: r.errors.map((e) => e.code) }).toEqual({ id, codes: ['INVALID_NODE_ID'] });
    }
  });

  it('100,000 nodes compile correctly within seconds', () => {
    const n = 100_000;
    const nodes = Array.from({ length: n }, (_, i) => ({
      id: `n${i}`,
      type: 'parallel',
      input: i ? { v: `$n${i - 1}.x` } : undefined,
    }));
    const edges = Array.from({ length: n - 1 }, (_, i) => ({ from: `n${i}`, to: `n${i + 1}` }));
    const r = compile({ name: 'big', nodes, edges });
    expect(r.errors).toEqual([]);
    expect(r.compiled?.levels.length).toBe(n);
    expect(r.compiled?.criticalPath.nodes.length).toBe(n);
    expect(r.compiled?.isAncestor(0, n - 1)).toBe(true);
  });

  it('every node reading a far ancestor is not quadratic (deferred to the batched pass)', () => {
    // a chain where every node reads $n0 and node 2k also (wrongly) reads a node after it
    const n = 50_000;
    const nodes = Array.from({ length: n }, (_, i) => ({
      id: `n${i}`,
      type: 'parallel',
      input: i === 0 ? undefined : { cfg: '$n0.config', ...(i % 10_000 === 0 && i + 5 < n ? { bad: `$n${i + 5}.x` } : {}) },
    }));
    const edges = Array.from({ length: n - 1 }, (_, i) => ({ from: `n${i}`, to: `n${i + 1}` }));
    const r = compile({ name: 'far', nodes, edges });
    expect(r.errors.map((e) => e.path)).toEqual([
      '/nodes/10000/input/bad',
      '/nodes/20000/input/bad',
      '/nodes/30000/input/bad',
      '/nodes/40000/input/bad',
    ]);
    expect(r.errors.every((e) => e.code === 'BINDING_NOT_UPSTREAM')).toBe(true);
  });

  it('too many nodes are refused up front', () => {
    const r = compile({ name: 'x', nodes: new Array(300_000).fill(0) });
    expect(r.errors).toMatchObject([{ code: 'SCHEMA', path: '/nodes' }]);
  });

  it('deeply nested input is a SCHEMA error, not a stack overflow', () => {
    let deep: unknown = '$context.x';
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    const r = compile({ name: 'x', nodes: [{ id: 'a', type: 'parallel', input: deep }] });
    expect(r.errors).toMatchObject([{ code: 'SCHEMA', message: expect.stringMatching(/nested deeper than 64/) }]);
    const text = `${'['.repeat(50_000)}${']'.repeat(50_000)}`;
    expect(parseDefinitionText(text, 'x.json').ok).toBe(true);
    expect(parseDefinitionText(text, 'x.yaml')).toMatchObject({ ok: false, code: 'PARSE_ERROR' });
  });

  it('a long expression is refused before parsing', () => {
    const r = compile({ name: 'x', nodes: [{ id: 'a', type: 'transform', expression: `${'1+'.repeat(20_000)}1` }] });
    expect(r.errors).toMatchObject([{ code: 'EXPRESSION_SYNTAX', path: '/nodes/0/expression' }]);
  });
});
