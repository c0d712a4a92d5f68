/**
 * A map node's item counts in the run view model: applying a batch never mutates the view it was
 * applied to, so React applying the same update twice (or to another base) cannot double-count.
 */
import type { RunEvent } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import { applyEvents, initialRunView } from '../src/run/run-state.ts';

const at = '2026-12-01T00:00:00.000Z';
function itemEvents(from: number, n: number, type: 'node.started' | 'node.succeeded', seq0: number): RunEvent[] {
  return Array.from(
    { length: n },
    (_, i) => ({ runId: 'r', seq: seq0 + i, type, at, nodeId: 'm', item: from + i, data: {} }) as RunEvent,
  );
}

describe('map items in the run view', () => {
  it('counts each item once, whatever base a batch is applied to', () => {
    const started = applyEvents(initialRunView(['m']), itemEvents(0, 10, 'node.started', 1));
    expect(started.nodes.m?.items).toMatchObject({ running: 10, done: 0 });
    const batch = itemEvents(0, 10, 'node.succeeded', 11);
    const once = applyEvents(started, batch);
    // The same update applied again to the same base (as React may do) gives the same result…
    const again = applyEvents(started, batch);
    expect(once.nodes.m?.items).toMatchObject({ running: 0, done: 10 });
    expect(again.nodes.m?.items).toMatchObject({ running: 0, done: 10 });
    // …and the base is unchanged.
    expect(started.nodes.m?.items).toMatchObject({ running: 10, done: 0 });
    expect(started.nodes.m?.items?.status.get(3)).toBe('running');
  });
});
