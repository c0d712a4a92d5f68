/**
 * Scheduler invariants on random DAGs, run by the real engine on a real SQLite file:
 * no node starts before all its predecessors resolved; every node ends resolved; each attempt
 * executes exactly once; the event log is gap-free.
 */
import { type NodeDefinition, TrellisError } from '@trellis/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, harness } from './harness.ts';

type Behaviour = 'ok' | 'flaky' | 'broken';
interface Spec {
  nodes: { behaviour: Behaviour; onError: 'fail' | 'continue'; join: 'none' | 'all' | 'any' }[];
  edges: { from: number; to: number; cond: 'none' | 'true' | 'false' }[];
}

const specArb: fc.Arbitrary<Spec> = fc.integer({ min: 2, max: 18 }).chain((n) =>
  fc.record({
    nodes: fc.array(
      fc.record({
        behaviour: fc.constantFrom<Behaviour>('ok', 'ok', 'ok', 'flaky', 'broken'),
        onError: fc.constantFrom<'fail' | 'continue'>('continue', 'continue', 'continue', 'fail'),
        join: fc.constantFrom<'none' | 'all' | 'any'>('none', 'none', 'all', 'any'),
      }),
      { minLength: n, maxLength: n },
    ),
    edges: fc
      .array(
        fc.tuple(
          fc.integer({ min: 1, max: n - 1 }),
          fc.nat(),
          fc.constantFrom<'none' | 'true' | 'false'>('none', 'none', 'true', 'false'),
        ),
        { minLength: n - 1, maxLength: n * 2 },
      )
      .map((es) => {
        const seen = new Set<string>();
        const out: Spec['edges'] = [];
        // Every node but the first gets its previous node as a predecessor (connected graph).
        for (let to = 1; to < n; to++) {
          seen.add(`${to - 1}>${to}`);
          out.push({ from: to - 1, to, cond: 'none' });
        }
        for (const [to, r, cond] of es) {
          const from = r % to;
          if (seen.has(`${from}>${to}`)) continue;
          seen.add(`${from}>${to}`);
          out.push({ from, to, cond });
        }
        return out;
      }),
  }),
);

const executions = new Map<string, number>();
let h: Harness;

beforeAll(async () => {
  h = await harness({
    tools: {
      probe: {
        async execute(input, ctx) {
          const key = `${ctx.runId}:${ctx.nodeId}:${ctx.attempt}`;
          executions.set(key, (executions.get(key) ?? 0) + 1);
          await new Promise((r) => setTimeout(r, Math.random() * 3));
          const b = (input as { behaviour: Behaviour }).behaviour;
          if (b === 'broken') throw new TrellisError('HTTP_400', 'broken on purpose');
          if (b === 'flaky' && ctx.attempt === 1) throw TrellisError.retryable('HTTP_503', 'flaky on purpose');
          return { kind: 'succeeded', output: { node: ctx.nodeId } };
        },
      },
    },
  });
});
afterAll(async () => {
  await h.close();
});

function toDefinition(spec: Spec) {
  const nodes: NodeDefinition[] = spec.nodes.map((s, i) =>
    s.join !== 'none' && i > 0
      ? ({ id: `n${i}`, type: 'join', mode: s.join } as NodeDefinition)
      : ({
          id: `n${i}`,
          type: 'tool_call',
          tool: 'probe',
          input: { behaviour: s.behaviour },
          onError: s.onError,
          retry: { maxAttempts: 2, initialDelayMs: 1, jitter: false },
        } as NodeDefinition),
  );
  const edges = spec.edges.map((e) => ({
    from: `n${e.from}`,
    to: `n${e.to}`,
    ...(e.cond === 'none' ? {} : { condition: e.cond }),
  }));
  return { name: 'random', nodes, edges };
}

describe('scheduler invariants on random DAGs', () => {
  it('holds for every generated workflow', async () => {
    await fc.assert(
      fc.asyncProperty(specArb, async (spec) => {
        const def = toDefinition(spec);
        const wf = await h.save(def);
        const rec = await h.run(wf);
        expect(['succeeded', 'failed']).toContain(rec.status);
        const events = await h.events(rec.id);
        expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
        const resolvedAt = new Map<string, number>();
        for (const e of events) {
          if (!e.nodeId) continue;
          if (
            e.type === 'node.succeeded' ||
            e.type === 'node.skipped' ||
            e.type === 'node.cancelled' ||
            e.type === 'node.failed'
          ) {
            if (!resolvedAt.has(e.nodeId)) resolvedAt.set(e.nodeId, e.seq);
          }
          if (e.type === 'node.started') {
            const preds = def.edges.filter((x) => x.to === e.nodeId).map((x) => x.from);
            const join = def.nodes.find((n) => n.id === e.nodeId)?.type === 'join';
            const anyJoin = join && (def.nodes.find((n) => n.id === e.nodeId) as { mode?: string }).mode === 'any';
            if (anyJoin) expect(preds.some((p) => (resolvedAt.get(p) ?? Infinity) < e.seq)).toBe(true);
            else
              for (const p of preds)
                expect(resolvedAt.get(p) ?? Infinity, `${e.nodeId} started before ${p} resolved`).toBeLessThan(e.seq);
          }
        }
        for (const n of def.nodes) {
          expect(['succeeded', 'failed', 'skipped', 'cancelled']).toContain(rec.nodes[n.id]!.status);
          for (const a of rec.nodes[n.id]!.attempts) {
            if (n.type === 'tool_call')
              expect(executions.get(`${rec.id}:${n.id}:${a.attempt}`), `${n.id} attempt ${a.attempt}`).toBe(1);
          }
        }
        // A run fails exactly when a node with onError "fail" failed for good.
        const fatal = def.nodes.some(
          (n) => rec.nodes[n.id]!.status === 'failed' && (n as { onError?: string }).onError === 'fail',
        );
        expect(rec.status).toBe(fatal ? 'failed' : 'succeeded');
      }),
      { numRuns: 60, seed: 20261125 },
    );
  });
});
