/** `map` and `workflow` nodes in the compiler, and the save-time checks of workflow references. */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkWorkflowReferences, compile, definitionJsonSchema, type WorkflowLookup } from '../src/index.ts';

const mapDef = (per: Record<string, unknown>, extraNodes: unknown[] = [], extraEdges: unknown[] = []) => ({
  name: 'm',
  nodes: [
    { id: 'search', type: 'transform', expression: '[1, 2]' },
    { id: 'per', type: 'map', items: '$search', ...per },
    ...extraNodes,
  ],
  edges: [{ from: 'search', to: 'per' }, ...extraEdges],
});

const codes = (r: ReturnType<typeof compile>) => r.errors.map((e) => `${e.code} ${e.path}`);

describe('map and workflow nodes in the compiler', () => {
  it('compiles a map with defaults; $item and $index are in scope in do', () => {
    const r = compile(
      mapDef({
        do: {
          type: 'tool_call',
          tool: 't',
          input: { hotel: '$item', rank: '$index', all: '$search' },
          retry: { maxAttempts: 3 },
        },
      }),
    );
    expect(r.errors).toEqual([]);
    const per = r.compiled!.nodes[1]!;
    expect(per.map).toMatchObject({
      concurrency: 8,
      maxItems: 10_000,
      onItemError: 'fail',
      body: { type: 'tool_call', id: 'per' },
    });
    expect(per.map!.retry.maxAttempts).toBe(3);
    expect(per.references).toEqual(['search']);
    const t = compile(
      mapDef({ concurrency: 3, onItemError: 'continue', do: { type: 'transform', expression: '$item * $index' } }),
    );
    expect(t.ok).toBe(true);
  });

  it('checks do as a node body of its type, with pointers into do', () => {
    expect(codes(compile(mapDef({ do: { type: 'condition', expression: '1' } })))).toEqual([
      'INVALID_NODE_TYPE /nodes/1/do/type',
    ]);
    expect(codes(compile(mapDef({ do: { type: 'tool_call' } })))).toEqual(['MISSING_FIELD /nodes/1/do/tool']);
    expect(codes(compile(mapDef({ do: { id: 'x', type: 'transform', expression: '1' } })))).toEqual(['SCHEMA /nodes/1/do/id']);
    expect(codes(compile(mapDef({})))).toEqual(['MISSING_FIELD /nodes/1/do']);
    expect(codes(compile(mapDef({ retry: { maxAttempts: 2 }, do: { type: 'transform', expression: '1' } })))).toEqual([
      'SCHEMA /nodes/1/retry',
    ]);
    expect(codes(compile(mapDef({ concurrency: 0, do: { type: 'transform', expression: '1' } })))).toEqual([
      'SCHEMA /nodes/1/concurrency',
    ]);
    expect(codes(compile(mapDef({ do: { type: 'transform', expression: '$item +' } })))).toEqual([
      'EXPRESSION_SYNTAX /nodes/1/do/expression',
    ]);
  });

  it('$item and $index are unknown outside do; items is checked as a binding', () => {
    const outside = compile(
      mapDef(
        { do: { type: 'transform', expression: '$item' } },
        [{ id: 'after', type: 'transform', expression: '$index' }],
        [{ from: 'per', to: 'after' }],
      ),
    );
    expect(codes(outside)).toEqual(['UNKNOWN_BINDING_REFERENCE /nodes/2/expression']);
    expect(codes(compile(mapDef({ items: '$item', do: { type: 'transform', expression: '1' } })))).toEqual([
      'UNKNOWN_BINDING_REFERENCE /nodes/1/items',
    ]);
    expect(codes(compile(mapDef({ items: '$nowhere.list', do: { type: 'transform', expression: '1' } })))).toEqual([
      'UNKNOWN_BINDING_REFERENCE /nodes/1/items',
    ]);
    const notUp = compile(
      mapDef(
        { do: { type: 'tool_call', tool: 't', input: { x: '$later' } } },
        [{ id: 'later', type: 'transform', expression: '1' }],
        [{ from: 'per', to: 'later' }],
      ),
    );
    expect(codes(notUp)).toEqual(['BINDING_NOT_UPSTREAM /nodes/1/do/input/x']);
    // item and index are reserved node ids
    expect(compile({ name: 'x', nodes: [{ id: 'item', type: 'parallel' }] }).errors[0]?.code).toBe('INVALID_NODE_ID');
  });

  it('a workflow node needs "workflow"; the JSON Schema knows both types', () => {
    expect(codes(compile({ name: 'w', nodes: [{ id: 'sub', type: 'workflow' }] }))).toEqual(['MISSING_FIELD /nodes/0/workflow']);
    expect(
      compile({ name: 'w', nodes: [{ id: 'sub', type: 'workflow', workflow: 'child', version: 2, input: { a: '$context.a' } }] })
        .ok,
    ).toBe(true);
    const schema = JSON.stringify(definitionJsonSchema());
    expect(schema).toContain('"map"');
    expect(schema).toContain('"workflow"');
    expect(schema).toContain('onItemError');
  });
});

describe('workflow references (save time), one example per code', () => {
  const dir = new URL('../../../examples/invalid/workflow-refs/', import.meta.url);
  const saved = JSON.parse(readFileSync(new URL('saved.json', dir), 'utf8')) as {
    workflows: { owner: string; definition: { name: string } }[];
  };
  const lookup = async (ref: string): Promise<WorkflowLookup> => {
    const w = saved.workflows.find((s) => s.definition.name === ref);
    if (!w) return { kind: 'unknown' };
    if (w.owner !== 'you') return { kind: 'forbidden', id: ref, name: ref };
    return { kind: 'found', id: ref, name: ref, definition: w.definition };
  };
  const files = readdirSync(dir).filter((f) => /^[A-Z_]+\.json$/.test(f));

  it('has the four examples', () => {
    expect(files.sort()).toEqual([
      'UNKNOWN_WORKFLOW.json',
      'WORKFLOW_CYCLE.json',
      'WORKFLOW_DEPTH_EXCEEDED.json',
      'WORKFLOW_FORBIDDEN.json',
    ]);
  });

  for (const f of files) {
    const code = f.replace('.json', '');
    it(`${code}: reported at the workflow reference, and the example compiles otherwise`, async () => {
      const def = JSON.parse(readFileSync(new URL(f, dir), 'utf8'));
      expect(compile(def).errors).toEqual([]);
      const errors = await checkWorkflowReferences(def, { selfId: def.name === 'cycle-a' ? 'cycle-a' : undefined, lookup });
      expect(errors.map((e) => e.code)).toEqual([code]);
      expect(errors[0]!.path).toMatch(/\/workflow$/);
      expect(errors[0]!.nodes).toHaveLength(1);
    });
  }

  it('a chain of exactly 10 levels is allowed; a direct self-reference is a cycle', async () => {
    const ten = { name: 'ok', nodes: [{ id: 'start', type: 'workflow', workflow: 'chain-2' }] };
    expect(await checkWorkflowReferences(ten, { lookup })).toEqual([]);
    const self = { name: 'me', nodes: [{ id: 'again', type: 'workflow', workflow: 'me' }] };
    expect((await checkWorkflowReferences(self, { lookup })).map((e) => e.code)).toEqual(['WORKFLOW_CYCLE']);
  });
});
