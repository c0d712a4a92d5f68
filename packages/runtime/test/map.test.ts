/**
 * `map` nodes on a real SQLite file: slots refill as items finish (never in waves), outputs in
 * input order, per-item retry, onItemError, budgets, cancellation, gates per item, and the
 * run record / events per item.
 */
import { TrellisError, type WorkflowDefinitionInput } from '@trellis/core';
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, harness, sleep, tool, waitForEvent } from './harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const mapOver = (items: string, body: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  ({
    name: 'map',
    nodes: [
      { id: 'src', type: 'transform', expression: items },
      { id: 'per', type: 'map', items: '$src', ...extra, do: body },
    ],
    edges: [{ from: 'src', to: 'per' }],
  }) as unknown as WorkflowDefinitionInput;

describe('map node', () => {
  it('starts items as slots free up (no waves), keeps input order, and records every item', async () => {
    const log: string[] = [];
    let running = 0;
    let peak = 0;
    let release: () => void = () => {};
    const lastStarted = new Promise<void>((r) => {
      release = r;
    });
    const work = tool(async (input) => {
      const { i } = input as { ms: number; i: number };
      running++;
      peak = Math.max(peak, running);
      log.push(`start ${i}`);
      if (i === 4) release();
      // Item 0 holds its slot until the last item has started: with waves that never happens
      // (the 3 s bound then ends it, and the order assertions below fail).
      if (i === 0) await Promise.race([lastStarted, sleep(3000)]);
      else await sleep(5);
      log.push(`end ${i}`);
      running--;
      return { i, doubled: i * 2 };
    });
    h = await harness({ tools: { work } });
    const wf = await h.save(
      mapOver(
        '[80, 10, 10, 10, 10]',
        { type: 'tool_call', tool: 'work', input: { ms: '$item', i: '$index' } },
        { concurrency: 2 },
      ),
    );
    const rec = await h.run(wf);
    expect(rec.status).toBe('succeeded');
    expect(peak).toBe(2);
    // Items 2..4 take the slot item 1 frees while item 0 still holds the other: no waves.
    expect(log.indexOf('start 2')).toBeLessThan(log.indexOf('end 0'));
    expect(log.indexOf('start 4')).toBeLessThan(log.indexOf('end 0'));
    expect(rec.output).toEqual({
      per: { items: [0, 1, 2, 3, 4].map((i) => ({ i, doubled: i * 2 })), errors: [] },
    });
    const per = rec.nodes.per!;
    expect(per.itemCount).toBe(5);
    expect(Object.keys(per.items!)).toEqual(['0', '1', '2', '3', '4']);
    expect(per.items!['3']).toMatchObject({
      status: 'succeeded',
      output: { i: 3, doubled: 6 },
      attempts: [{ attempt: 1, status: 'succeeded' }],
    });
    const evs = await h.events(rec.id);
    expect(evs.map((e) => e.seq)).toEqual(evs.map((_, i) => i + 1));
    const itemEvents = evs.filter((e) => e.item !== undefined);
    expect(
      itemEvents
        .filter((e) => e.type === 'node.succeeded')
        .map((e) => e.item)
        .sort(),
    ).toEqual([0, 1, 2, 3, 4]);
    expect(itemEvents.every((e) => e.nodeId === 'per')).toBe(true);
  });

  it('the run maxConcurrency bounds items too', async () => {
    let running = 0;
    let peak = 0;
    const work = tool(async () => {
      running++;
      peak = Math.max(peak, running);
      await sleep(5);
      running--;
      return {};
    });
    h = await harness({ tools: { work } });
    const def = {
      ...mapOver('[1,2,3,4,5,6,7,8]', { type: 'tool_call', tool: 'work' }, { concurrency: 8 }),
      settings: { maxConcurrency: 3 },
    };
    const rec = await h.run(await h.save(def));
    expect(rec.status).toBe('succeeded');
    expect(peak).toBe(3);
  });

  it('$item and $index reach transform bodies; an empty array gives an empty output', async () => {
    h = await harness();
    const rec = await h.run(
      await h.save(mapOver('[{"n": 1}, {"n": 5}]', { type: 'transform', expression: '$item.n * 10 + $index' })),
    );
    expect(rec.output).toEqual({ per: { items: [10, 51], errors: [] } });
    const empty = await h.run(await h.save(mapOver('[]', { type: 'transform', expression: '$item' })));
    expect(empty.status).toBe('succeeded');
    expect(empty.output).toEqual({ per: { items: [], errors: [] } });
  });

  it('retries an item by the do body policy, alone', async () => {
    const seen = new Map<number, number>();
    const flaky = tool(async (input) => {
      const i = (input as { i: number }).i;
      seen.set(i, (seen.get(i) ?? 0) + 1);
      if (i === 1 && seen.get(i) === 1) throw TrellisError.retryable('HTTP_503', 'busy');
      return i;
    });
    h = await harness({ tools: { flaky } });
    const rec = await h.run(
      await h.save(
        mapOver('[0,1,2]', {
          type: 'tool_call',
          tool: 'flaky',
          input: { i: '$index' },
          retry: { maxAttempts: 3, initialDelayMs: 1, jitter: false },
        }),
      ),
    );
    expect(rec.status).toBe('succeeded');
    expect(rec.output).toEqual({ per: { items: [0, 1, 2], errors: [] } });
    expect([...seen.entries()].sort()).toEqual([
      [0, 1],
      [1, 2],
      [2, 1],
    ]);
    expect(rec.nodes.per!.items!['1']!.attempts.map((a) => a.status)).toEqual(['failed', 'succeeded']);
  });

  it('onItemError "continue" collects errors; "fail" cancels the items in flight and fails the node', async () => {
    const aborted: number[] = [];
    const work = tool(async (input, ctx) => {
      const i = (input as { i: number }).i;
      if (i === 1) throw new TrellisError('TOOL_ERROR', `item ${i} broke`);
      if (i === 0) {
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
        aborted.push(i);
        throw new TrellisError('CANCELLED', 'aborted');
      }
      return i;
    });
    h = await harness({ tools: { work } });
    const body = { type: 'tool_call', tool: 'work', input: { i: '$index' } };
    const cont = await h.run(
      await h.save(mapOver('[2,1,2]', { type: 'tool_call', tool: 'work', input: { i: '$item' } }, { onItemError: 'continue' })),
    );
    expect(cont.status).toBe('succeeded');
    expect(cont.output).toEqual({
      per: { items: [2, null, 2], errors: [{ index: 1, code: 'TOOL_ERROR', message: 'item 1 broke' }] },
    });

    const fail = await h.run(await h.save(mapOver('[0,1,2,3]', body, { concurrency: 2 })));
    expect(fail.status).toBe('failed');
    expect(fail.error).toMatchObject({ code: 'TOOL_ERROR' });
    expect(fail.nodes.per!.status).toBe('failed');
    expect(aborted).toEqual([0]);
    expect(fail.nodes.per!.items!['0']!.status).toBe('cancelled');
    expect(fail.nodes.per!.items!['2']).toBeUndefined(); // never started
  });

  it('fails with MAP_ITEMS_NOT_ARRAY and MAP_TOO_MANY_ITEMS', async () => {
    h = await harness();
    const notArray = await h.run(await h.save(mapOver('{"a": 1}', { type: 'transform', expression: '$item' })));
    expect(notArray.error).toMatchObject({ code: 'MAP_ITEMS_NOT_ARRAY' });
    const tooMany = await h.run(await h.save(mapOver('[1,2,3]', { type: 'transform', expression: '$item' }, { maxItems: 2 })));
    expect(tooMany.error).toMatchObject({ code: 'MAP_TOO_MANY_ITEMS' });
  });

  it('maxCostUsd is checked across items: the run fails and items in flight are cancelled', async () => {
    let calls = 0;
    const paid: Parameters<typeof harness>[0] = {
      tools: {
        paid: {
          async execute(_input, ctx) {
            calls++;
            if (ctx.item === 0) {
              await new Promise((r) => setTimeout(r, 2000));
              return { kind: 'succeeded', output: 0 };
            }
            return { kind: 'succeeded', output: ctx.item, cost: { costUsd: 0.4 } };
          },
        },
      },
    };
    h = await harness(paid);
    const def = {
      ...mapOver('[0,1,2,3,4,5]', { type: 'tool_call', tool: 'paid' }, { concurrency: 2 }),
      settings: { maxCostUsd: 1 },
    };
    const rec = await h.run(await h.save(def));
    expect(rec.status).toBe('failed');
    expect(rec.error).toMatchObject({ code: 'BUDGET_EXCEEDED' });
    expect(rec.costUsd).toBeCloseTo(1.2);
    expect(calls).toBe(4); // item 0 (slow) and items 1..3; nothing after the budget broke
    expect(rec.nodes.per!.items!['0']!.status).toBe('cancelled');
  });

  it('cancelling the run aborts every item in flight', async () => {
    const aborted: number[] = [];
    const hang = tool(
      (_input, ctx) =>
        new Promise((_, reject) =>
          ctx.signal.addEventListener('abort', () => {
            aborted.push(ctx.item!);
            reject(ctx.signal.reason);
          }),
        ),
    );
    h = await harness({ tools: { hang } });
    const wf = await h.save(mapOver('[1,2,3,4,5]', { type: 'tool_call', tool: 'hang' }, { concurrency: 3 }));
    const { runId } = await h.engine.startRun({ workflowId: wf, version: 1, input: {} });
    await waitForEvent(h.engine, runId, (e) => e.type === 'node.started' && e.item === 2);
    await h.engine.cancelRun(runId);
    const rec = await h.engine.waitForRun(runId);
    expect(rec.status).toBe('cancelled');
    expect(aborted.sort()).toEqual([0, 1, 2]);
    expect(Object.values(rec.nodes.per!.items!).map((i) => i.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
  });

  it('human gates per item: the run waits, and each item is decided on its own', async () => {
    h = await harness();
    const wf = await h.save(mapOver('["a","b"]', { type: 'human_gate', prompt: 'ok {{ $item }}?' }));
    const { runId } = await h.engine.startRun({ workflowId: wf, version: 1, input: {} });
    const waiting = await h.engine.waitForRun(runId, { orWaiting: true });
    expect(waiting.status).toBe('waiting');
    expect(waiting.nodes.per!.items!['1']).toMatchObject({ status: 'waiting', prompt: 'ok b?' });
    expect((await h.engine.decideGate(runId, 'per', { approved: true, by: 'ann' }, 1)).ok).toBe(true);
    expect(await h.engine.decideGate(runId, 'per', { approved: true, by: 'ann' }, 1)).toEqual({
      ok: false,
      reason: 'not_waiting',
    });
    expect((await h.engine.decideGate(runId, 'per', { approved: true, by: 'bob', data: { x: 1 } }, 0)).ok).toBe(true);
    const rec = await h.engine.waitForRun(runId);
    expect(rec.status).toBe('succeeded');
    expect(rec.output).toMatchObject({
      per: {
        items: [
          { approved: true, by: 'bob' },
          { approved: true, by: 'ann' },
        ],
      },
    });
    const evs = await h.events(runId);
    expect(evs.filter((e) => e.type === 'gate.approved').map((e) => e.item)).toEqual([1, 0]);
  });
});
