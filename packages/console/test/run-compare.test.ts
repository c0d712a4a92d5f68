/** Run comparison: per-node status, duration and cost differences, and JSON output diffs by path. */
import type { RunRecord } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import { compareRuns, diffJson } from '../src/run/compare.ts';

function run(id: string, nodes: RunRecord['nodes'], extra: Partial<RunRecord> = {}): RunRecord {
  return {
    id,
    workflowId: 'wf',
    version: 1,
    status: 'succeeded',
    input: { q: 1 },
    output: null,
    error: null,
    costUsd: 0,
    createdBy: 'alice',
    createdAt: '2026-03-02T00:00:00.000Z',
    startedAt: '2026-03-02T00:00:00.000Z',
    finishedAt: '2026-03-02T00:00:01.000Z',
    lastSeq: 1,
    retryOf: null,
    costSavedUsd: 0,
    retries: [],
    nodes,
    ...extra,
  };
}

function node(status: 'succeeded' | 'failed', ms: number, output: unknown, costUsd = 0) {
  return {
    status,
    input: null,
    output,
    error: null,
    costUsd,
    startedAt: '2026-03-02T00:00:00.000Z',
    finishedAt: new Date(Date.parse('2026-03-02T00:00:00.000Z') + ms).toISOString(),
    attempts: [],
  };
}

describe('run comparison', () => {
  it('diffs JSON by path, arrays by index, keys needing quotes quoted, capped', () => {
    expect(diffJson({ a: 1, b: [1, 2], 'x-y': { z: true } }, { a: 1, b: [1, 3, 4], 'x-y': { z: false } })).toEqual([
      { path: '$.b[1]', a: 2, b: 3 },
      { path: '$.b[2]', a: undefined, b: 4 },
      { path: '$["x-y"].z', a: true, b: false },
    ]);
    expect(diffJson(1, 1)).toEqual([]);
    expect(diffJson({ a: 1 }, 'text')).toEqual([{ path: '$', a: { a: 1 }, b: 'text' }]);
    const big = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i]));
    expect(diffJson(big, {}, 10)).toHaveLength(10);
  });

  it('compares nodes: status, duration and cost deltas, output differences, nodes only in one run', () => {
    const a = run('a', { fetch: node('failed', 100, null, 0.5), only_a: node('succeeded', 5, 1) }, { costUsd: 0.5 });
    const b = run(
      'b',
      { fetch: node('succeeded', 250, { price: 3 }, 0.75), only_b: node('succeeded', 5, 2) },
      { costUsd: 0.75, status: 'succeeded', finishedAt: '2026-03-02T00:00:03.000Z', output: { total: 3 } },
    );
    const c = compareRuns(a, b);
    expect(c.sameWorkflow).toBe(true);
    expect(c.durationA).toBe(1000);
    expect(c.durationB).toBe(3000);
    expect(c.costDelta).toBeCloseTo(0.25);
    expect(c.outputDiffs).toEqual([{ path: '$', a: null, b: { total: 3 } }]);
    expect(c.nodes.map((n) => n.nodeId)).toEqual(['fetch', 'only_a', 'only_b']);
    const fetch = c.nodes[0]!;
    expect(fetch).toMatchObject({ statusChanged: true, durationA: 100, durationB: 250, durationDelta: 150, changed: true });
    expect(fetch.costDelta).toBeCloseTo(0.25);
    expect(fetch.outputDiffs).toEqual([{ path: '$', a: null, b: { price: 3 } }]);
    expect(c.nodes[1]).toMatchObject({ changed: true, b: undefined });
    const same = compareRuns(a, a);
    expect(same.nodes.every((n) => !n.changed)).toBe(true);
  });
});
