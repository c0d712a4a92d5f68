/**
 * The commit queue's order and its hold: a tick-end commit waits (briefly) for built-in nodes
 * still evaluating, so that a run of them commits once; nothing that waits for a commit is held.
 */
import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { Batch } from '../src/runner/batch.ts';
import { CommitQueue } from '../src/runner/commit-queue.ts';

const event = (seq: number) =>
  ({ op: 'event', event: { runId: 'r1', seq, type: 'node.started', at: 0, data: {} } }) as unknown as Parameters<
    Batch['push']
  >[0];

function queue(holdMaxMs: number, holdCapMs = holdMaxMs) {
  const state = { pure: 0 };
  const committed: number[][] = [];
  let release: (() => void) | undefined;
  let gate = false;
  const q = new CommitQueue(
    async (b) => {
      committed.push(b.ops.map((o) => (o as unknown as { event: { seq: number } }).event.seq));
      if (gate) await new Promise<void>((r) => (release = r));
    },
    (err) => {
      throw err;
    },
    () => state.pure > 0,
    holdMaxMs,
    holdCapMs,
  );
  const add = (seq: number) => {
    q.batch.push(event(seq));
    q.schedule();
  };
  return {
    q,
    state,
    committed,
    add,
    gateNext: () => {
      gate = true;
    },
    release: () => {
      gate = false;
      release?.();
    },
  };
}

describe('CommitQueue', () => {
  it('commits at the end of the tick when nothing is evaluating', async () => {
    const t = queue(1000);
    t.add(1);
    t.add(2);
    await tick();
    await tick();
    expect(t.committed).toEqual([[1, 2]]);
  });

  it('holds the tick-end commit while built-in nodes evaluate, then commits what they fed with it, once', async () => {
    const t = queue(10_000);
    t.state.pure = 2;
    t.add(1);
    await tick();
    await tick();
    expect(t.committed).toEqual([]);
    t.state.pure = 1;
    t.add(2);
    await tick();
    expect(t.committed).toEqual([]);
    t.state.pure = 0;
    t.add(3);
    await tick();
    await tick();
    expect(t.committed).toEqual([[1, 2, 3]]);
  });

  it('holds at most holdMaxMs', async () => {
    const t = queue(30);
    t.state.pure = 1;
    t.add(1);
    await tick();
    expect(t.committed).toEqual([]);
    await new Promise((r) => setTimeout(r, 80));
    expect(t.committed).toEqual([[1]]);
  });

  it('with a cap above the least hold, holds as long as commits have lately taken, within the bounds', async () => {
    const t = queue(20, 200);
    expect(t.q.holdMaxMs).toBe(20); // no commit measured yet: the least
    // One commit that takes about 100 ms (a busy database).
    t.gateNext();
    t.add(1);
    await tick();
    await tick();
    await new Promise((r) => setTimeout(r, 100));
    t.release();
    await t.q.flush();
    expect(t.q.holdMaxMs).toBeGreaterThanOrEqual(90);
    expect(t.q.holdMaxMs).toBeLessThanOrEqual(200);
    // Now a hold lasts that long: past the least (20 ms) nothing has left yet…
    t.state.pure = 1;
    t.add(2);
    await tick();
    await new Promise((r) => setTimeout(r, 50));
    expect(t.committed).toEqual([[1]]);
    // …and it still ends while the built-in work goes on.
    for (let i = 0; i < 100 && t.committed.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(t.committed).toEqual([[1], [2]]);
    // A commit slower than the cap: the hold stops at the cap.
    t.state.pure = 0;
    t.gateNext();
    t.add(3);
    await tick();
    await tick();
    await new Promise((r) => setTimeout(r, 1000));
    t.release();
    await t.q.flush();
    expect(t.q.holdMaxMs).toBe(200);
  });

  it('never holds a batch that work waits for, nor an explicit flush', async () => {
    const t = queue(10_000);
    t.state.pure = 1;
    t.q.batch.awaited = true;
    t.add(1);
    await tick();
    await tick();
    expect(t.committed).toEqual([[1]]);
    t.q.batch.push(event(2));
    await t.q.flush();
    expect(t.committed).toEqual([[1], [2]]);
  });

  it('behind a commit in flight, decides once that commit is done: still evaluating means still held', async () => {
    const t = queue(10_000);
    t.gateNext();
    t.add(1);
    await tick();
    await tick();
    expect(t.committed).toEqual([[1]]);
    // While commit 1 is in flight, its actions start built-in nodes and feed the next batch.
    t.state.pure = 1;
    t.add(2);
    await tick();
    t.release();
    await tick();
    await tick();
    expect(t.committed).toEqual([[1]]);
    t.state.pure = 0;
    t.add(3);
    await tick();
    await tick();
    expect(t.committed).toEqual([[1], [2, 3]]);
  });

  it('holds nothing with holdMaxMs 0 (SQLite: a commit is a local call)', async () => {
    const t = queue(0);
    t.state.pure = 5;
    t.add(1);
    await tick();
    await tick();
    expect(t.committed).toEqual([[1]]);
  });
});
