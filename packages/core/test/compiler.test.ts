import { describe, expect, it } from 'vitest';
import { compile, summarize, validateDefinition } from '../src/index.ts';
import { codes, ids, mustCompile, t, wf } from './helpers.ts';

describe('compiler: the original design suite', () => {
  it('simple linear workflow A→B→C', () => {
    const c = mustCompile(
      wf(
        [t('A'), t('B', '$A'), t('C', '$B + 1')],
        [
          ['A', 'B'],
          ['B', 'C'],
        ],
      ),
    );
    expect(ids(c, c.order)).toEqual(['A', 'B', 'C']);
    expect(c.levels.map((l) => ids(c, l))).toEqual([['A'], ['B'], ['C']]);
    expect(ids(c, c.entries)).toEqual(['A']);
    expect(ids(c, c.sinks)).toEqual(['C']);
    expect(c.nodes[2]?.references).toEqual(['B']);
  });

  it('parallel workflow A→(B,C)→D', () => {
    const c = mustCompile(
      wf(
        [t('A'), t('B'), t('C'), { id: 'D', type: 'join' }],
        [
          ['A', 'B'],
          ['A', 'C'],
          ['B', 'D'],
          ['C', 'D'],
        ],
      ),
    );
    expect(c.levels.map((l) => ids(c, l))).toEqual([['A'], ['B', 'C'], ['D']]);
    const d = c.nodes[3];
    expect(ids(c, d?.predecessors ?? [])).toEqual(['B', 'C']);
    expect(d?.joinMode).toBe('all');
    expect(d?.incoming.map((e) => c.edges[e]?.from)).toEqual([1, 2]);
    expect(c.isAncestor(0, 3)).toBe(true);
    expect(c.isAncestor(1, 2)).toBe(false);
    expect(ids(c, c.ancestorsOf(3))).toEqual(['A', 'B', 'C']);
  });

  it('detects a cycle and lists it in order', () => {
    const r = compile(
      wf(
        [t('S'), t('A'), t('B'), t('C')],
        [
          ['S', 'A'],
          ['A', 'B'],
          ['B', 'C'],
          ['C', 'A'],
        ],
      ),
    );
    expect(codes(r)).toEqual(['CYCLE']);
    const cyc = r.errors[0]?.nodes ?? [];
    expect(new Set(cyc)).toEqual(new Set(['A', 'B', 'C']));
    // consecutive members are joined by edges, and the last leads back to the first
    const edges = new Set(['S>A', 'A>B', 'B>C', 'C>A']);
    cyc.forEach((n, i) => {
      expect(edges.has(`${n}>${cyc[(i + 1) % cyc.length]}`)).toBe(true);
    });
  });

  it('reports unreachable and isolated nodes', () => {
    const isolated = compile(wf([t('A'), t('B'), t('lonely')], [['A', 'B']]));
    expect(codes(isolated)).toEqual(['UNREACHABLE_NODE']);
    expect(isolated.errors[0]).toMatchObject({ nodes: ['lonely'], path: '/nodes/2' });
    // behind a cycle with no entry: X→Y→X and Y→Z; Z is only reachable through the cycle
    const behind = compile(
      wf(
        [t('A'), t('X'), t('Y'), t('Z')],
        [
          ['X', 'Y'],
          ['Y', 'X'],
          ['Y', 'Z'],
          ['A', 'Z'],
        ],
      ),
    );
    expect(codes(behind).sort()).toEqual(['CYCLE']);
    const unreach = compile(
      wf(
        [t('A'), t('B'), t('X'), t('Y'), t('Z')],
        [
          ['A', 'B'],
          ['X', 'Y'],
          ['Y', 'X'],
          ['Y', 'Z'],
        ],
      ),
    );
    expect(codes(unreach).sort()).toEqual(['CYCLE', 'UNREACHABLE_NODE']);
    expect(unreach.errors.find((e) => e.code === 'UNREACHABLE_NODE')?.nodes).toEqual(['Z']);
    // a single node is fine
    expect(compile(wf([t('only')])).ok).toBe(true);
  });

  it('reports invalid node references in edges', () => {
    const r = compile(
      wf(
        [t('A'), t('B')],
        [
          ['A', 'B'],
          ['A', 'nope'],
          ['ghost', 'B'],
        ],
      ),
    );
    expect(codes(r)).toEqual(['UNKNOWN_NODE_REFERENCE', 'UNKNOWN_NODE_REFERENCE']);
    expect(r.errors.map((e) => e.path)).toEqual(['/edges/1/to', '/edges/2/from']);
  });

  it('validates node types and their required fields', () => {
    const r = compile(
      wf(
        [
          { id: 'a', type: 'llm' },
          { id: 'b', type: 'condition' },
          { id: 'c', type: 'tool_call' },
          { id: 'd', type: 'human_gate', prompt: 5 },
          t('e'),
        ],
        [
          ['a', 'b'],
          ['b', 'c'],
          ['c', 'd'],
          ['d', 'e'],
        ],
      ),
    );
    expect(r.errors.map((e) => [e.code, e.path])).toEqual([
      ['INVALID_NODE_TYPE', '/nodes/0/type'],
      ['MISSING_FIELD', '/nodes/1/expression'],
      ['MISSING_FIELD', '/nodes/2/tool'],
      ['SCHEMA', '/nodes/3/prompt'],
    ]);
  });

  it('validates parameter bindings: existence, upstream, syntax, and literal money', () => {
    const r = compile(
      wf(
        [
          {
            id: 'a',
            type: 'tool_call',
            tool: 'x/y',
            input: { q: '$context.q', price: '$5', text: 'costs $5', deep: { list: ['$a.self'] } },
          },
          {
            id: 'b',
            type: 'tool_call',
            tool: 'x/y',
            input: { v: '$a.items[0].name', w: '$c.value', z: '$nobody.x', t: '{{ $a.n + }}' },
          },
          { id: 'c', type: 'human_gate', prompt: 'ok {{ $b.v }}? {{ $context.who }}' },
        ],
        [
          ['a', 'b'],
          ['b', 'c'],
        ],
      ),
    );
    expect(r.errors.map((e) => [e.code, e.path])).toEqual([
      ['BINDING_NOT_UPSTREAM', '/nodes/0/input/deep/list/0'],
      ['BINDING_NOT_UPSTREAM', '/nodes/1/input/w'],
      ['UNKNOWN_BINDING_REFERENCE', '/nodes/1/input/z'],
      ['EXPRESSION_SYNTAX', '/nodes/1/input/t'],
    ]);
    expect(r.errors[1]?.message).toBe('$c is not upstream of b; add an edge c → b or reference an upstream node');
  });

  it('checks edge conditions against the edge source and its ancestors', () => {
    const nodes = [t('a'), t('b'), t('c'), t('d')];
    const ok = compile(
      wf(nodes, [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'c', condition: '$b = 1 and $a = 1' },
        { from: 'a', to: 'd' },
      ]),
    );
    expect(ok.ok).toBe(true);
    const bad = compile(
      wf(nodes, [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'c', condition: '$c = 1 or $d' },
        { from: 'a', to: 'd' },
      ]),
    );
    expect(bad.errors.map((e) => [e.code, e.path, e.nodes])).toEqual([
      ['BINDING_NOT_UPSTREAM', '/edges/1/condition', ['b', 'c', 'c']],
      ['BINDING_NOT_UPSTREAM', '/edges/1/condition', ['b', 'c', 'd']],
    ]);
  });

  it('ignores variables bound inside an expression and JSONata built-ins', () => {
    const c = mustCompile(
      wf(
        [
          t('a'),
          t('b', '($f := function($x) { $x * 2 }; $map($a.items, $f)) ~> $sum()'),
          t('c', 'items@$it#$i.{ "n": $it, "i": $i, "b": $b }'),
        ],
        [
          ['a', 'b'],
          ['b', 'c'],
        ],
      ),
    );
    expect(c.nodes[1]?.references).toEqual(['a']);
    expect(c.nodes[2]?.references).toEqual(['b']);
  });

  it('full compilation: defaults, retry, onError, critical path and summary of the SPEC example', async () => {
    const { readFileSync } = await import('node:fs');
    const def = JSON.parse(readFileSync(new URL('../../../examples/hotel-search.json', import.meta.url), 'utf8'));
    def.nodes[0].estimatedMs = 500;
    def.nodes[4].estimatedMs = 10_000;
    const c = mustCompile(def);
    expect(c.nodes[0]?.retry).toEqual({ maxAttempts: 4, initialDelayMs: 200, backoffFactor: 2, maxDelayMs: 5000, jitter: true });
    expect(c.nodes[1]?.retry.maxAttempts).toBe(1);
    expect(c.nodes[1]?.onError).toBe('fail');
    expect(c.nodes[5]?.joinMode).toBe('any');
    expect(c.edges[1]?.condition).toBe('$has_results.value = true');
    expect(summarize(c)).toEqual({
      order: ['search_hotels', 'has_results', 'filter_price', 'no_results', 'approve', 'done'],
      levels: [['search_hotels'], ['has_results'], ['filter_price', 'no_results'], ['approve'], ['done']],
      entries: ['search_hotels'],
      sinks: ['done'],
      criticalPath: { nodes: ['search_hotels', 'has_results', 'no_results', 'done'], estimatedMs: 10_502 },
      nodeCount: 6,
      edgeCount: 6,
    });
    expect(c.indexById.get('approve')).toBe(3);
  });

  it('a complex DAG: diamond chains, wide fan-out, long skip edges', () => {
    const nodes = [t('root')];
    const edges: [string, string][] = [];
    for (let i = 0; i < 20; i++) {
      nodes.push(t(`w${i}`, '$root'));
      edges.push(['root', `w${i}`]);
    }
    nodes.push({ id: 'j', type: 'join', input: { all: '$w0', last: '$w19.x' } });
    for (let i = 0; i < 20; i++) edges.push([`w${i}`, 'j']);
    nodes.push(t('tail1', '$j'), t('tail2', '$root.z + $w3.y'));
    edges.push(['j', 'tail1'], ['tail1', 'tail2'], ['root', 'tail2']);
    const c = mustCompile(wf(nodes, edges));
    expect(c.levels.map((l) => l.length)).toEqual([1, 20, 1, 1, 1]);
    expect(c.criticalPath.nodes).toEqual(['root', 'w0', 'j', 'tail1', 'tail2']);
    expect([...(c.nodes[c.indexById.get('tail2') as number]?.references ?? [])].sort()).toEqual(['root', 'w3']);
  });

  it('the validate helper returns { valid, errors, warnings }', () => {
    expect(validateDefinition(wf([t('a')]))).toEqual({ valid: true, errors: [], warnings: [] });
    const v = validateDefinition(wf([t('a', '1', { expresion: 'x' })]));
    expect(v.valid).toBe(true);
    expect(v.warnings).toMatchObject([{ code: 'SCHEMA', path: '/nodes/0/expresion' }]);
    expect(validateDefinition({ nodes: 3 }).valid).toBe(false);
  });

  it('compiling an invalid workflow reports every problem at once', () => {
    const r = compile({
      name: 'bad',
      extra: true,
      nodes: [
        t('a'),
        t('a'),
        { id: 'run', type: 'transform', expression: '$a' },
        { id: 'x-y', type: 'join' },
        'not a node',
        t('z', '$missing +'),
      ],
      edges: [{ from: 'a', to: 'a' }, { from: 'a', to: 'q' }, { from: 'a' }],
    });
    expect(r.ok).toBe(false);
    expect(r.compiled).toBeUndefined();
    expect(new Set(codes(r))).toEqual(
      new Set([
        'SCHEMA',
        'DUPLICATE_NODE_ID',
        'INVALID_NODE_ID',
        'INVALID_EDGE',
        'UNKNOWN_NODE_REFERENCE',
        'EXPRESSION_SYNTAX',
        'UNREACHABLE_NODE',
      ]),
    );
    for (const e of r.errors) expect(e.message.length).toBeGreaterThan(10);
    expect(r.errors.every((e) => typeof e.path === 'string')).toBe(true);
  });

  it('output bindings may name any node but must name one', () => {
    expect(compile(wf([t('a'), t('b')], [['a', 'b']], { output: { x: '$a.v', y: '$b' } })).ok).toBe(true);
    const r = compile(wf([t('a'), t('b')], [['a', 'b']], { output: { x: '$c.v' } }));
    expect(r.errors).toMatchObject([{ code: 'UNKNOWN_BINDING_REFERENCE', path: '/output/x' }]);
  });
});
