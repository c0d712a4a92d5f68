/**
 * Retries (docs/retry.md) on a real SQLite file: reuse across a branch and a join, `from`,
 * `version: "latest"` with an upstream change and with an unrelated one, irreversible nodes,
 * and the refusals.
 */
import type { Executor, RunRecord, WorkflowDefinitionInput } from '@trellis/core';
import { TrellisError } from '@trellis/core';
import { addVersion } from '@trellis/store';
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, harness } from './harness.ts';

/** A tool that costs `costUsd`, counts its calls per node, and fails while `failing` holds. */
function paidTool(costUsd: number, failing: (nodeId: string) => boolean = () => false) {
  const calls: Record<string, number> = {};
  const exec: Executor = {
    async execute(input, ctx) {
      calls[ctx.nodeId] = (calls[ctx.nodeId] ?? 0) + 1;
      if (failing(ctx.nodeId)) throw new TrellisError('TOOL_ERROR', `${ctx.nodeId} is down`);
      return { kind: 'succeeded', output: { node: ctx.nodeId, input }, cost: { costUsd } };
    },
  };
  return { exec, calls };
}

const branchy = (finalInput: unknown = { merged: '$joined' }): WorkflowDefinitionInput => ({
  name: 'branchy',
  nodes: [
    { id: 'fetch', type: 'tool_call', tool: 'paid', input: { q: '$context.q' } },
    { id: 'check', type: 'condition', expression: '$fetch.input.q = "hotels"' },
    { id: 'big', type: 'tool_call', tool: 'paid', input: { from: '$fetch.node' } },
    { id: 'small', type: 'transform', expression: '"nothing"' },
    { id: 'joined', type: 'join', mode: 'any' },
    { id: 'final', type: 'tool_call', tool: 'paid', input: finalInput },
  ],
  edges: [
    { from: 'fetch', to: 'check' },
    { from: 'check', to: 'big', condition: '$check.value = true' },
    { from: 'check', to: 'small', condition: '$check.value = false' },
    { from: 'big', to: 'joined' },
    { from: 'small', to: 'joined' },
    { from: 'joined', to: 'final' },
  ],
});

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function retry(runId: string, opts: { from?: string[]; latestVersion?: number } = {}): Promise<RunRecord> {
  const r = await h!.engine.retryRun({ runId, ...opts });
  expect(r.retryOf).toBe(runId);
  return h!.engine.waitForRun(r.runId, { orWaiting: true });
}

describe('retry', () => {
  it('reuses the succeeded nodes across a branch and a join; only the failed node runs; cost is not charged twice', async () => {
    let down = true;
    const paid = paidTool(0.01, (id) => id === 'final' && down);
    h = await harness({ tools: { paid: paid.exec } });
    const wf = await h.save(branchy());
    const first = await h.run(wf, { q: 'hotels' });
    expect(first.status).toBe('failed');
    expect(first.nodes.small!.status).toBe('skipped');
    expect(first.costUsd).toBeCloseTo(0.02); // the failed call reported no cost

    down = false;
    const second = await retry(first.id);
    expect(second.status).toBe('succeeded');
    expect(paid.calls).toEqual({ fetch: 1, big: 1, final: 2 });
    expect(second.retryOf).toBe(first.id);
    for (const id of ['fetch', 'check', 'big', 'joined']) {
      expect(second.nodes[id]).toMatchObject({ status: 'succeeded', reusedFrom: first.id, costUsd: 0 });
      expect(second.nodes[id]!.output).toEqual(first.nodes[id]!.output);
      expect(second.nodes[id]!.attempts.map((a) => a.reusedFrom)).toEqual(first.nodes[id]!.attempts.map(() => first.id));
    }
    expect(second.nodes.small!.status).toBe('skipped');
    expect(second.nodes.final!.reusedFrom).toBeUndefined();
    expect(second.nodes.final!.notReused).toBe(`'final' failed in run ${first.id}`);
    expect(second.nodes.fetch!.costSavedUsd).toBeCloseTo(0.01);
    expect(second.costUsd).toBeCloseTo(0.01); // only what ran
    expect(second.costSavedUsd).toBeCloseTo(0.02); // fetch + big
    expect(second.output).toEqual({
      final: { node: 'final', input: { merged: { big: { node: 'big', input: { from: 'fetch' } } } } },
    });

    const original = await h.engine.getRun(first.id);
    expect(original!.retries).toEqual([second.id]);
    const events = await h.events(second.id);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.filter((e) => e.type === 'node.reused').map((e) => e.nodeId)).toEqual(['fetch', 'check', 'big', 'joined']);
    expect(events.filter((e) => e.type === 'node.started').map((e) => e.nodeId)).toEqual(['final']);
  });

  it('`from` reruns the picked nodes and everything downstream; a changed outcome takes the other branch', async () => {
    const paid = paidTool(0.5);
    h = await harness({ tools: { paid: paid.exec } });
    const wf = await h.save(branchy());
    const first = await h.run(wf, { q: 'hotels' });
    expect(first.status).toBe('succeeded');
    await expect(h.engine.retryRun({ runId: first.id })).rejects.toMatchObject({ code: 'NOTHING_TO_RERUN' });
    await expect(h.engine.retryRun({ runId: first.id, from: ['nope'] })).rejects.toMatchObject({ code: 'RETRY_UNKNOWN_NODE' });

    const second = await retry(first.id, { from: ['big'] });
    expect(second.status).toBe('succeeded');
    expect(paid.calls).toEqual({ fetch: 1, big: 2, final: 2 });
    expect(second.nodes.fetch!.reusedFrom).toBe(first.id);
    expect(second.nodes.check!.reusedFrom).toBe(first.id);
    expect(second.nodes.big!.notReused).toBe("'big' was picked to run again");
    expect(second.nodes.joined!.notReused).toBe("it is downstream of 'big', which runs again");
    expect(second.costSavedUsd).toBeCloseTo(0.5);

    // A retry of a retry points at the run that executed the node, and counts its cost as saved.
    const third = await retry(second.id, { from: ['final'] });
    expect(third.nodes.fetch!.reusedFrom).toBe(first.id);
    expect(third.nodes.big!.reusedFrom).toBe(second.id);
    expect(third.costSavedUsd).toBeCloseTo(1.0);
    expect(paid.calls).toEqual({ fetch: 1, big: 2, final: 3 });
  });

  it('version latest: an upstream change reruns what depends on it; an unrelated change keeps reuse', async () => {
    let down = true;
    const paid = paidTool(0.01, (id) => id === 'final' && down);
    h = await harness({ tools: { paid: paid.exec } });
    const wf = await h.save(branchy());
    const first = await h.run(wf, { q: 'hotels' });
    expect(first.status).toBe('failed');

    // v2 changes only the branch that was not taken (and moves a node): fetch and big are reused.
    const v2 = branchy();
    (v2.nodes[3] as { expression: string }).expression = '"still nothing"';
    (v2.nodes[0] as { position?: unknown }).position = { x: 10, y: 20 };
    await addVersion(h.handle.db, wf, v2, 'tester');
    // v3 changes fetch: everything downstream of it runs again.
    const v3 = branchy();
    (v3.nodes[0] as { input: unknown }).input = { q: '$context.q', page: 2 };
    await addVersion(h.handle.db, wf, v3, 'tester');

    down = false;
    const unrelated = await retry(first.id, { latestVersion: 2 });
    expect(unrelated.status).toBe('succeeded');
    expect(unrelated.version).toBe(2);
    expect(unrelated.nodes.fetch!.reusedFrom).toBe(first.id);
    expect(unrelated.nodes.big!.reusedFrom).toBe(first.id);
    expect(unrelated.nodes.small!.notReused).toBe('its definition or incoming edges changed in version 2');
    expect(unrelated.nodes.joined!.notReused).toBe("it is downstream of 'small', which runs again");
    expect(unrelated.nodes.small!.status).toBe('skipped');
    expect(paid.calls).toEqual({ fetch: 1, big: 1, final: 2 });

    const upstream = await retry(first.id, { latestVersion: 3 });
    expect(upstream.status).toBe('succeeded');
    expect(upstream.nodes.fetch!.notReused).toBe('its definition or incoming edges changed in version 3');
    expect(upstream.nodes.big!.notReused).toBe("it is downstream of 'fetch', which runs again");
    expect(upstream.costSavedUsd).toBe(0);
    expect(paid.calls).toEqual({ fetch: 2, big: 2, final: 3 });
  });

  it('version latest: a changed condition is evaluated again and can take the other branch', async () => {
    let down = true;
    const paid = paidTool(0.01, (id) => id === 'final' && down);
    h = await harness({ tools: { paid: paid.exec } });
    const wf = await h.save(branchy());
    const first = await h.run(wf, { q: 'hotels' });
    const v2 = branchy({ merged: '$joined', small: '$small' });
    (v2.nodes[1] as { expression: string }).expression = '$fetch.input.q = "flights"';
    await addVersion(h.handle.db, wf, v2, 'tester');
    down = false;
    const second = await retry(first.id, { latestVersion: 2 });
    expect(second.status).toBe('succeeded');
    expect(second.nodes.fetch!.reusedFrom).toBe(first.id);
    expect(second.nodes.check!.output).toEqual({ value: false });
    expect(second.nodes.big!.status).toBe('skipped');
    expect(second.nodes.small!.status).toBe('succeeded');
    expect(second.nodes.final!.output).toMatchObject({ input: { small: 'nothing' } });
    expect(paid.calls).toEqual({ fetch: 1, big: 1, final: 2 });
  });

  it('an irreversible node is reused with a note, and never runs again without an approval', async () => {
    let down = true;
    const paid = paidTool(0.02, (id) => id === 'notify' && down);
    h = await harness({ tools: { paid: paid.exec } });
    const wf = await h.save({
      name: 'pay',
      nodes: [
        { id: 'quote', type: 'tool_call', tool: 'paid' },
        { id: 'pay', type: 'tool_call', tool: 'paid', sideEffects: 'irreversible', input: { amount: 10 } },
        { id: 'notify', type: 'tool_call', tool: 'paid', input: { paid: '$pay.node' } },
      ],
      edges: [
        { from: 'quote', to: 'pay' },
        { from: 'pay', to: 'notify' },
      ],
    });
    const first = await h.run(wf);
    expect(first.status).toBe('failed');

    const reused = await retry(first.id);
    expect(reused.nodes.pay!.reusedFrom).toBe(first.id);
    expect(reused.nodes.pay!.reuseNote).toContain('irreversible side effects');
    const events = await h.events(reused.id);
    expect(events.find((e) => e.type === 'node.reused' && e.nodeId === 'pay')?.data).toMatchObject({ note: expect.any(String) });
    expect(paid.calls.pay).toBe(1);

    // Picked to run again: the retry waits at an automatic gate before it, saying why.
    down = false;
    const waiting = await retry(reused.id, { from: ['pay'] });
    expect(waiting.status).toBe('waiting');
    expect(waiting.nodes.pay!.status).toBe('waiting');
    expect(waiting.nodes.pay!.prompt).toContain('irreversible side effects and already ran');
    expect(waiting.nodes.pay!.approvalRequired).toBe(waiting.nodes.pay!.prompt);
    expect(paid.calls.pay).toBe(1);
    expect(await h.engine.decideGate(waiting.id, 'pay', { approved: true, by: 'alice' })).toEqual({ ok: true });
    const approved = await h.engine.waitForRun(waiting.id);
    expect(approved.status).toBe('succeeded');
    expect(paid.calls.pay).toBe(2);
    expect(approved.nodes.pay!.attempts).toHaveLength(1);
    const approvedEvents = await h.events(waiting.id);
    expect(approvedEvents.find((e) => e.type === 'gate.approved')).toMatchObject({ nodeId: 'pay', data: { by: 'alice' } });

    // Rejected: the node fails with GATE_REJECTED and nothing runs. A retry of that retry asks again.
    const again = await retry(approved.id, { from: ['pay'] });
    expect(again.status).toBe('waiting');
    await h.engine.decideGate(again.id, 'pay', { approved: false, by: 'bob', comment: 'already paid' });
    const rejected = await h.engine.waitForRun(again.id);
    expect(rejected.status).toBe('failed');
    expect(rejected.nodes.pay!.error).toMatchObject({ code: 'GATE_REJECTED' });
    expect(rejected.nodes.notify!.status).toBe('cancelled');
    expect(paid.calls.pay).toBe(2);
    const askedAgain = await retry(rejected.id);
    expect(askedAgain.status).toBe('waiting');
    expect(askedAgain.nodes.pay!.prompt).toContain('irreversible');
    await h.engine.cancelRun(askedAgain.id);
  });

  it('an approved human gate is reused with its decision, unless it is picked to run again', async () => {
    let down = true;
    const paid = paidTool(0.01, (id) => id === 'book' && down);
    h = await harness({ tools: { paid: paid.exec } });
    const wf = await h.save({
      name: 'gated',
      nodes: [
        { id: 'offer', type: 'tool_call', tool: 'paid' },
        { id: 'approve', type: 'human_gate', prompt: 'Book {{ $offer.node }}?' },
        { id: 'book', type: 'tool_call', tool: 'paid', input: { ok: '$approve.approved' } },
      ],
      edges: [
        { from: 'offer', to: 'approve' },
        { from: 'approve', to: 'book' },
      ],
    });
    const first = await h.run(wf, {}, { orWaiting: true });
    await h.engine.decideGate(first.id, 'approve', { approved: true, by: 'alice', comment: 'go' });
    expect((await h.engine.waitForRun(first.id)).status).toBe('failed');
    down = false;
    const second = await retry(first.id);
    expect(second.status).toBe('succeeded'); // no second decision was needed
    expect(second.nodes.approve).toMatchObject({ reusedFrom: first.id, output: { approved: true, by: 'alice' } });
    expect(second.nodes.book!.output).toMatchObject({ input: { ok: true } });
    const third = await retry(second.id, { from: ['approve'] });
    expect(third.status).toBe('waiting');
    expect(third.nodes.approve!.prompt).toBe('Book offer?');
    await h.engine.cancelRun(third.id);
  });

  it('a map and a sub-workflow upstream of the failure are reused whole: no item and no child run again', async () => {
    let down = true;
    const paid = paidTool(0.01, (id) => id === 'last' && down);
    h = await harness({ tools: { paid: paid.exec } });
    await h.save({ name: 'child-wf', nodes: [{ id: 'work', type: 'tool_call', tool: 'paid', input: { q: '$context.q' } }] });
    const wf = await h.save({
      name: 'map-and-child',
      nodes: [
        { id: 'src', type: 'transform', expression: '[1, 2, 3]' },
        { id: 'per_item', type: 'map', items: '$src', do: { type: 'tool_call', tool: 'paid', input: { n: '$item' } } },
        { id: 'sub', type: 'workflow', workflow: 'child-wf', input: { q: '$per_item.items' } },
        { id: 'last', type: 'tool_call', tool: 'paid', input: { from: '$sub' } },
      ],
      edges: [
        { from: 'src', to: 'per_item' },
        { from: 'per_item', to: 'sub' },
        { from: 'sub', to: 'last' },
      ],
    } as unknown as Parameters<Harness['save']>[0]);
    const first = await h.run(wf);
    expect(first.nodes.last!.error?.code, JSON.stringify(first.error)).toBe('TOOL_ERROR');
    const callsBefore = { ...paid.calls };
    const runsBefore = (await h.engine.listRuns({ limit: 100 })).runs.length;
    down = false;
    const second = await retry(first.id);
    expect(second.status, JSON.stringify(second.error)).toBe('succeeded');
    expect(second.nodes.per_item).toMatchObject({ reusedFrom: first.id, output: first.nodes.per_item!.output });
    expect(second.nodes.sub).toMatchObject({ reusedFrom: first.id, output: first.nodes.sub!.output });
    // Only `last` ran again: no map item, no child run.
    expect(paid.calls).toEqual({ ...callsBefore, last: (callsBefore.last ?? 0) + 1 });
    expect((await h.engine.listRuns({ limit: 100 })).runs.length).toBe(runsBefore + 1);
    expect(second.costSavedUsd).toBeCloseTo(first.costUsd);
    // The map's items come along as they were (output, times, attempts), each with its own event.
    const items = (r: RunRecord) => r.nodes.per_item!.items!;
    expect(Object.keys(items(second))).toEqual(['0', '1', '2']);
    for (const i of ['0', '1', '2']) {
      expect(items(second)[i]).toMatchObject({
        status: 'succeeded',
        output: items(first)[i]!.output,
        startedAt: items(first)[i]!.startedAt,
        finishedAt: items(first)[i]!.finishedAt,
        costUsd: 0,
      });
    }
    const reused = (await h.events(second.id)).filter((e) => e.type === 'node.reused');
    expect(reused.map((e) => [e.nodeId, e.item])).toEqual([
      ['src', undefined],
      ['per_item', undefined],
      ['per_item', 0],
      ['per_item', 1],
      ['per_item', 2],
      ['sub', undefined],
    ]);
    expect(reused[3]!.data).toEqual({ reusedFrom: first.id, costSavedUsd: 0, output: items(first)['1']!.output });

    // `from` the map: every item runs again, and so does the child run downstream.
    const third = await retry(second.id, { from: ['per_item'] });
    expect(third.status, JSON.stringify(third.error)).toBe('succeeded');
    expect(paid.calls.work).toBe((callsBefore.work ?? 0) + 1);
    expect(third.nodes.src!.reusedFrom).toBe(first.id);
    expect(third.nodes.per_item!.notReused).toBe("'per_item' was picked to run again");
  });

  it('refuses a run that has not finished', async () => {
    h = await harness();
    const wf = await h.save({ name: 'gate', nodes: [{ id: 'g', type: 'human_gate', prompt: 'ok?' }] });
    const waiting = await h.run(wf, {}, { orWaiting: true });
    await expect(h.engine.retryRun({ runId: waiting.id })).rejects.toMatchObject({ code: 'RUN_NOT_FINISHED' });
    await expect(h.engine.retryRun({ runId: 'nope' })).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
  });
});
