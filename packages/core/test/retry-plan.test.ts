/** Retry planning in the core: hashes, closure hashes, the plan's rules, the sideEffects field. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  compile,
  definitionJsonSchema,
  type OriginalNode,
  planRetry,
  type WorkflowDefinitionInput,
} from '../src/index.ts';
import { nodeHashes, sha256Hex } from '../src/internal.ts';

const compiled = (def: WorkflowDefinitionInput) => {
  const r = compile(def);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.compiled;
};

const diamond = (patch: (d: WorkflowDefinitionInput) => void = () => {}): WorkflowDefinitionInput => {
  const d: WorkflowDefinitionInput = {
    name: 'diamond',
    nodes: [
      { id: 'a', type: 'tool_call', tool: 't' },
      { id: 'b', type: 'tool_call', tool: 't', input: { x: '$a.v' } },
      { id: 'c', type: 'tool_call', tool: 't', input: { x: '$a.v' } },
      { id: 'd', type: 'join' },
    ],
    edges: [
      { from: 'a', to: 'b' },
      { from: 'a', to: 'c' },
      { from: 'b', to: 'd' },
      { from: 'c', to: 'd' },
    ],
  };
  patch(d);
  return d;
};

const node = (status: OriginalNode['status'], extra: Partial<OriginalNode> = {}): OriginalNode => ({
  status,
  attempt: status === 'pending' || status === 'skipped' ? 0 : 1,
  costUsd: 0.1,
  reusedFrom: null,
  costSavedUsd: 0,
  approvalRequired: false,
  ...extra,
});

describe('hashes', () => {
  it('sha256Hex matches node:crypto, on ASCII, Unicode and block boundaries', () => {
    for (const s of ['', 'abc', 'é✓ 日本', 'x'.repeat(55), 'x'.repeat(56), 'x'.repeat(64), 'y'.repeat(1000)]) {
      expect(sha256Hex(s)).toBe(createHash('sha256').update(s, 'utf8').digest('hex'));
    }
  });

  it('canonical JSON ignores key order; closure hashes ignore cosmetic fields and see upstream changes', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: null }] })).toBe(canonicalJson({ a: [{ c: null, d: 2 }], b: 1 }));
    const base = nodeHashes(compiled(diamond()));
    const moved = nodeHashes(
      compiled(
        diamond((d) => {
          Object.assign(d.nodes![0]!, { name: 'A', position: { x: 1, y: 2 }, estimatedMs: 40, description: 'first' });
        }),
      ),
    );
    expect(moved.closure).toEqual(base.closure);
    const changed = nodeHashes(compiled(diamond((d) => Object.assign(d.nodes![1]!, { input: { x: '$a.w' } }))));
    expect(changed.local[0]).toBe(base.local[0]);
    expect(changed.local[1]).not.toBe(base.local[1]);
    expect(changed.local[3]).toBe(base.local[3]);
    expect(changed.closure[3]).not.toBe(base.closure[3]); // d is downstream of b
    expect(changed.closure[2]).toBe(base.closure[2]); // c is not
  });
});

describe('planRetry', () => {
  const c = compiled(diamond());
  const plan = (nodes: Record<string, OriginalNode>, from?: string[], target = c, targetVersion = 1) =>
    planRetry({
      originalRunId: 'r1',
      original: c,
      originalVersion: 1,
      originalNodes: new Map(Object.entries(nodes)),
      target,
      targetVersion,
      from,
    });

  it('reuses what succeeded upstream of the failure, with its cost as saved; names why the rest runs', () => {
    const r = plan({ a: node('succeeded'), b: node('succeeded'), c: node('failed'), d: node('cancelled') });
    if (!r.ok) throw new Error(r.error.message);
    expect(r.plan.nodes.map((n) => n.kind)).toEqual(['reuse', 'reuse', 'run', 'run']);
    expect(r.plan.reused).toBe(2);
    expect(r.plan.costSavedUsd).toBeCloseTo(0.2);
    expect(r.plan.nodes[2]).toMatchObject({ reason: "'c' failed in run r1" });
    expect(r.plan.nodes[3]).toMatchObject({ reason: "'d' was cancelled in run r1" });
  });

  it('looks through earlier retries for the run that executed a node', () => {
    const r = plan(
      {
        a: node('succeeded', { reusedFrom: 'r0', costUsd: 0, costSavedUsd: 0.3 }),
        b: node('succeeded'),
        c: node('succeeded'),
        d: node('succeeded'),
      },
      ['d'],
    );
    if (!r.ok) throw new Error(r.error.message);
    expect(r.plan.nodes[0]).toMatchObject({ kind: 'reuse', reusedFrom: 'r0', costSavedUsd: 0.3 });
    expect(r.plan.nodes[1]).toMatchObject({ kind: 'reuse', reusedFrom: 'r1' });
  });

  it('refuses unknown `from` nodes and a retry that would run nothing', () => {
    const done = { a: node('succeeded'), b: node('succeeded'), c: node('succeeded'), d: node('succeeded') };
    expect(plan(done)).toMatchObject({ ok: false, error: { code: 'NOTHING_TO_RERUN' } });
    expect(plan(done, ['zz', 'a'])).toMatchObject({
      ok: false,
      error: { code: 'RETRY_UNKNOWN_NODE', details: { nodes: ['zz'] } },
    });
  });

  it('a node new in the target version runs, and so does what is downstream of it', () => {
    const v2 = compiled(
      diamond((d) => {
        d.nodes!.push({ id: 'e', type: 'tool_call', tool: 't' });
        d.edges!.push({ from: 'e', to: 'd' });
      }),
    );
    const r = plan({ a: node('succeeded'), b: node('succeeded'), c: node('succeeded'), d: node('succeeded') }, undefined, v2, 2);
    if (!r.ok) throw new Error(r.error.message);
    expect(r.plan.nodes[4]).toMatchObject({ kind: 'run', reason: "'e' is new in version 2" });
    expect(r.plan.nodes[3]).toMatchObject({ kind: 'run' });
    expect(r.plan.reused).toBe(3);
  });

  it('an irreversible node that already ran needs an approval; one that never ran does not', () => {
    const irr = compiled(diamond((d) => Object.assign(d.nodes![2]!, { sideEffects: 'irreversible' })));
    const ran = planRetry({
      originalRunId: 'r1',
      original: irr,
      originalVersion: 1,
      originalNodes: new Map(
        Object.entries({ a: node('succeeded'), b: node('succeeded'), c: node('failed'), d: node('cancelled') }),
      ),
      target: irr,
      targetVersion: 1,
    });
    expect(ran.ok && ran.plan.nodes[2]).toMatchObject({ kind: 'run', approval: expect.stringContaining('irreversible') });
    const never = planRetry({
      originalRunId: 'r1',
      original: irr,
      originalVersion: 1,
      originalNodes: new Map(
        Object.entries({ a: node('failed'), b: node('cancelled'), c: node('cancelled', { attempt: 0 }), d: node('cancelled') }),
      ),
      target: irr,
      targetVersion: 1,
    });
    expect(never.ok && never.plan.nodes[2]).toMatchObject({ kind: 'run', approval: null });
  });
});

describe('sideEffects', () => {
  it('is in the JSON Schema, and the compiler warns where it changes nothing', () => {
    expect(JSON.stringify(definitionJsonSchema())).toContain('"sideEffects"');
    const r = compile({
      name: 'x',
      nodes: [
        { id: 'pay', type: 'tool_call', tool: 't', sideEffects: 'irreversible' },
        { id: 'calc', type: 'transform', expression: '1', sideEffects: 'irreversible' },
      ],
      edges: [{ from: 'pay', to: 'calc' }],
    });
    expect(r.ok).toBe(true);
    expect(r.warnings).toEqual([
      expect.objectContaining({ code: 'SIDE_EFFECTS_IGNORED', nodes: ['calc'], path: '/nodes/1/sideEffects' }),
    ]);
    expect(compile({ name: 'x', nodes: [{ id: 'a', type: 'tool_call', tool: 't', sideEffects: 'sometimes' }] }).ok).toBe(false);
  });
});
