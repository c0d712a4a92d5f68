/** The live run view's model: folding events (retries, backoff, gates) and the timeline's bars. */
import type { RunEvent } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import { applyEvent, applyEvents, initialRunView } from '../src/run/run-state.ts';
import { buildTimeline } from '../src/run/timeline.ts';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
let seq = 0;
function ev(ms: number, type: RunEvent['type'], nodeId: string | undefined, data: unknown): RunEvent {
  seq++;
  return { seq, runId: 'r1', type, ...(nodeId ? { nodeId } : {}), at: new Date(T0 + ms).toISOString(), data } as RunEvent;
}

function flakyThenGateRun(): RunEvent[] {
  seq = 0;
  return [
    ev(0, 'run.queued', undefined, { workflowId: 'w', version: 1 }),
    ev(1, 'run.started', undefined, {}),
    ev(2, 'node.queued', 'call', {}),
    ev(3, 'node.started', 'call', { attempt: 1 }),
    ev(50, 'node.retrying', 'call', { attempt: 1, delayMs: 100, error: { code: 'HTTP_503', message: 'busy' } }),
    ev(150, 'node.started', 'call', { attempt: 2 }),
    ev(200, 'node.succeeded', 'call', { output: { ok: true }, durationMs: 50, cost: { costUsd: 0.01 }, attempt: 2 }),
    ev(201, 'node.started', 'gate', { attempt: 1 }),
    ev(202, 'node.waiting', 'gate', { prompt: 'Go?', attempt: 1 }),
    ev(203, 'run.waiting', undefined, {}),
    ev(500, 'gate.approved', 'gate', { by: 'alice', comment: 'ok' }),
    ev(501, 'node.succeeded', 'gate', { output: { approved: true }, durationMs: 300, cost: null, attempt: 1 }),
    ev(502, 'node.skipped', 'never', {}),
    ev(503, 'run.cost', undefined, { totalUsd: 0.01 }),
    ev(504, 'run.succeeded', undefined, { output: { done: 1 } }),
  ];
}

describe('run state from events', () => {
  it('folds a run with a retry and a gate into statuses, attempts and waits', () => {
    const v = applyEvents(initialRunView(['call', 'gate', 'never']), flakyThenGateRun());
    expect(v.status).toBe('succeeded');
    expect(v.lastSeq).toBe(15);
    expect(v.costUsd).toBe(0.01);
    expect(v.output).toEqual({ done: 1 });
    const call = v.nodes.call!;
    expect(call.status).toBe('succeeded');
    expect(call.attempts.map((a) => [a.attempt, a.state])).toEqual([
      [1, 'failed'],
      [2, 'succeeded'],
    ]);
    expect(call.attempts[0]?.error?.code).toBe('HTTP_503');
    expect(call.waits).toEqual([{ kind: 'backoff', start: T0 + 50, end: T0 + 150, due: T0 + 150 }]);
    expect(call.costUsd).toBe(0.01);
    const gate = v.nodes.gate!;
    expect(gate.prompt).toBe('Go?');
    expect(gate.waits).toEqual([{ kind: 'gate', start: T0 + 202, end: T0 + 500, decision: 'approved', by: 'alice' }]);
    expect(v.nodes.never?.status).toBe('skipped');
  });

  it('shows intermediate states: retrying during a backoff, waiting at a gate', () => {
    const events = flakyThenGateRun();
    expect(applyEvents(initialRunView(), events.slice(0, 5)).nodes.call?.status).toBe('retrying');
    const atGate = applyEvents(initialRunView(), events.slice(0, 10));
    expect(atGate.status).toBe('waiting');
    expect(atGate.nodes.gate?.status).toBe('waiting');
  });

  it('ignores an event it has already applied, so a replay after reconnecting counts nothing twice', () => {
    const events = flakyThenGateRun();
    const once = applyEvents(initialRunView(), events);
    const twice = applyEvents(applyEvents(initialRunView(), events.slice(0, 8)), events);
    expect(twice).toEqual(once);
    expect(applyEvent(once, events[3]!)).toBe(once);
  });
});

describe('timeline', () => {
  it('draws each attempt, backoff wait and gate wait on one axis', () => {
    const v = applyEvents(initialRunView(), flakyThenGateRun());
    const t = buildTimeline(v, ['call', 'gate', 'never'], T0 + 10_000);
    expect(t.start).toBe(T0 + 1);
    expect(t.end).toBe(T0 + 504);
    expect(t.rows.map((r) => r.nodeId)).toEqual(['call', 'gate']);
    const call = t.rows[0]!.bars;
    expect(call.map((b) => `${b.kind}:${b.state}`)).toEqual(['attempt:failed', 'attempt:succeeded', 'backoff:backoff']);
    for (const b of call) {
      expect(b.left).toBeGreaterThanOrEqual(0);
      expect(b.left + b.width).toBeLessThanOrEqual(1 + 1e-9);
    }
    const backoff = call[2]!;
    expect(backoff.left).toBeCloseTo(49 / 503, 5);
    expect(backoff.width).toBeCloseTo(100 / 503, 5);
    expect(t.rows[1]!.bars.find((b) => b.kind === 'gate')?.title).toMatch(/approved by alice/);
  });

  it('draws open bars up to now while the run is going', () => {
    const v = applyEvents(initialRunView(), flakyThenGateRun().slice(0, 4));
    const t = buildTimeline(v, ['call'], T0 + 1003);
    const bar = t.rows[0]!.bars[0]!;
    expect(bar.open).toBe(true);
    expect(bar.left + bar.width).toBeCloseTo(1, 5);
  });
});

describe('edges taken', () => {
  it('evaluates edge conditions like the engine: true branch taken, false branch not, skipped sources take none', async () => {
    const { edgesTaken } = await import('../src/run/edges-taken.ts');
    const at = { x: 0, y: 0 };
    const nodes = [
      { id: 'check', type: 'condition', position: at },
      { id: 'yes', type: 'transform', position: at },
      { id: 'no', type: 'transform', position: at },
      { id: 'after_no', type: 'transform', position: at },
      { id: 'soft', type: 'tool_call', onError: 'continue', position: at },
      { id: 'hard', type: 'tool_call', position: at },
      { id: 'pending', type: 'transform', position: at },
    ];
    const edges = [
      { from: 'check', to: 'yes', condition: '$check.value = true and $context.n > 1' },
      { from: 'check', to: 'no', condition: '$check.value = false' },
      { from: 'no', to: 'after_no' },
      { from: 'soft', to: 'yes', condition: '$exists($soft.error)' },
      { from: 'hard', to: 'no' },
      { from: 'pending', to: 'yes' },
    ];
    const records = {
      check: { status: 'succeeded', output: { value: true } },
      yes: { status: 'succeeded', output: 1 },
      no: { status: 'skipped', output: null },
      after_no: { status: 'skipped', output: null },
      soft: { status: 'failed', output: { error: { code: 'X', message: 'm' } } },
      hard: { status: 'failed', output: null },
      pending: { status: 'running', output: null },
    } as const;
    const t = await edgesTaken(nodes, edges, records, { n: 2 });
    expect([...t.entries()].sort((a, b) => a[0] - b[0])).toEqual([
      [0, true],
      [1, false],
      [2, false],
      [3, true],
      [4, false],
    ]);
    expect(t.has(5)).toBe(false);
  });
});
