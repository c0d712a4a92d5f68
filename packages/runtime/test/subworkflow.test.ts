/**
 * `workflow` nodes: a child run is a real run linked both ways; its output, error and cost reach
 * the parent; a gate in the child makes the parent wait and deciding it resumes both;
 * cancelling the parent cancels the child; permissions and depth are checked at run time.
 */
import type { WorkflowDefinitionInput } from '@trellis/core';
import { createWorkflow } from '@trellis/store';
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, harness, tool, waitForEvent } from './harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const parentOf = (child: string, extra: Record<string, unknown> = {}) =>
  ({
    name: 'parent',
    nodes: [
      { id: 'prep', type: 'transform', expression: '{ "q": $context.q }' },
      { id: 'enrich', type: 'workflow', workflow: child, input: { q: '$prep.q' }, ...extra },
    ],
    edges: [{ from: 'prep', to: 'enrich' }],
  }) as unknown as WorkflowDefinitionInput;

describe('workflow node (sub-workflows)', () => {
  it('runs the child as a real run linked both ways; output, _run and cost reach the parent', async () => {
    const priced = tool(async (input) => ({ echoed: input }));
    priced.execute = async (input) => ({ kind: 'succeeded', output: { echoed: input }, cost: { costUsd: 0.25 } });
    h = await harness({ tools: { priced } });
    await h.save({
      name: 'child-wf',
      nodes: [{ id: 'work', type: 'tool_call', tool: 'priced', input: { q: '$context.q' } }],
      output: { answer: '$work.echoed.q' },
    });
    const parent = await h.save({ ...parentOf('child-wf'), settings: { maxCostUsd: 1 } });
    const rec = await h.run(parent, { q: 'paris' });
    expect(rec.status).toBe('succeeded');
    const out = rec.nodes.enrich!.output as { answer: string; _run: string };
    expect(out.answer).toBe('paris');
    expect(rec.nodes.enrich!.childRunId).toBe(out._run);
    expect(rec.costUsd).toBeCloseTo(0.25);
    const child = (await h.engine.getRun(out._run))!;
    expect(child).toMatchObject({ status: 'succeeded', parentRunId: rec.id, parentNodeId: 'enrich', costUsd: 0.25 });
    expect(child.workflowId).not.toBe(rec.workflowId);
  });

  it("a failed child fails the node with the child's error; its cost counts against the parent's budget", async () => {
    const broken = tool(async () => {
      throw new Error('boom');
    });
    h = await harness({ tools: { broken } });
    await h.save({ name: 'bad-child', nodes: [{ id: 'x', type: 'tool_call', tool: 'broken' }] });
    const rec = await h.run(await h.save(parentOf('bad-child')), { q: 1 });
    expect(rec.status).toBe('failed');
    expect(rec.nodes.enrich!.error).toMatchObject({ code: 'INTERNAL' });
    expect(rec.nodes.enrich!.error!.message).toContain('child run');

    const pricey = tool(async () => 1);
    pricey.execute = async () => ({ kind: 'succeeded', output: 1, cost: { costUsd: 5 } });
    await h.close();
    h = await harness({ tools: { pricey } });
    await h.save({ name: 'pricey-child', nodes: [{ id: 'x', type: 'tool_call', tool: 'pricey' }] });
    const over = await h.run(await h.save({ ...parentOf('pricey-child'), settings: { maxCostUsd: 1 } }), { q: 1 });
    expect(over.status).toBe('failed');
    expect(over.error).toMatchObject({ code: 'BUDGET_EXCEEDED' });
  });

  it('a gate in the child makes the parent wait; deciding the child gate resumes both', async () => {
    h = await harness();
    await h.save({
      name: 'gated-child',
      nodes: [
        { id: 'ask', type: 'human_gate', prompt: 'go for {{ $context.q }}?' },
        { id: 'after', type: 'transform', expression: '"approved " & $context.q' },
      ],
      edges: [{ from: 'ask', to: 'after' }],
    });
    const parent = await h.save(parentOf('gated-child'));
    const { runId } = await h.engine.startRun({ workflowId: parent, version: 1, input: { q: 'rome' } });
    await waitForEvent(h.engine, runId, (e) => e.type === 'run.waiting');
    const waiting = (await h.engine.getRun(runId))!;
    expect(waiting.status).toBe('waiting');
    expect(waiting.nodes.enrich!.status).toBe('waiting');
    const childId = waiting.nodes.enrich!.childRunId!;
    expect(waiting.nodes.enrich!.prompt).toContain('go for rome?');
    expect((await h.engine.getRun(childId))!.status).toBe('waiting');
    expect((await h.engine.decideGate(childId, 'ask', { approved: true, by: 'ann' })).ok).toBe(true);
    const rec = await h.engine.waitForRun(runId);
    expect(rec.status).toBe('succeeded');
    expect(rec.nodes.enrich!.output).toMatchObject({ after: 'approved rome', _run: childId });
    expect((await h.engine.getRun(childId))!.status).toBe('succeeded');
    // The parent's node resumed by its child is no human decision: no gate event on the parent.
    expect((await h.events(runId)).some((e) => e.type === 'gate.approved')).toBe(false);
  });

  it('cancelling the parent cancels the running child', async () => {
    const hang = tool(
      (_i, ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
    );
    h = await harness({ tools: { hang } });
    await h.save({ name: 'slow-child', nodes: [{ id: 'x', type: 'tool_call', tool: 'hang' }] });
    const parent = await h.save(parentOf('slow-child'));
    const { runId } = await h.engine.startRun({ workflowId: parent, version: 1, input: { q: 1 } });
    const started = await waitForEvent(h.engine, runId, (e) => e.type === 'node.started' && e.nodeId === 'enrich');
    expect(started).toBeDefined();
    let childId: string | undefined;
    for (let i = 0; i < 100 && !childId; i++) {
      childId = (await h.engine.getRun(runId))!.nodes.enrich!.childRunId;
      if (!childId) await new Promise((r) => setTimeout(r, 10));
    }
    await waitForEvent(h.engine, childId!, (e) => e.type === 'node.started');
    await h.engine.cancelRun(runId);
    expect((await h.engine.waitForRun(runId)).status).toBe('cancelled');
    const child = await h.engine.waitForRun(childId!);
    expect(child.status).toBe('cancelled');
  });

  it('checks at run time that the owner may run the child, and caps the nesting depth', async () => {
    h = await harness();
    await createWorkflow(h.handle.db, {
      name: 'private-child',
      definition: { name: 'private-child', nodes: [{ id: 'x', type: 'transform', expression: '1' }] },
      owner: 'someone-else',
    });
    const denied = await h.run(await h.save(parentOf('private-child')), { q: 1 });
    expect(denied.nodes.enrich!.error).toMatchObject({ code: 'WORKFLOW_NOT_FOUND' });

    // A workflow that calls itself (saved directly, past the save-time check) stops at the cap.
    const loop = await h.save({ name: 'loop', nodes: [{ id: 'again', type: 'workflow', workflow: 'loop' }] });
    await h.close();
    h = await harness({ dbPath: h.dbPath, engine: { maxWorkflowDepth: 3 } });
    const rec = await h.run(loop);
    expect(rec.status).toBe('failed');
    expect(JSON.stringify(rec.error)).toContain('WORKFLOW_DEPTH_EXCEEDED');
  });

  it('a map can run a workflow per item, each a child run', async () => {
    h = await harness();
    await h.save({ name: 'square', nodes: [{ id: 'sq', type: 'transform', expression: '$context.n * $context.n' }] });
    const wf = await h.save({
      name: 'map-of-children',
      nodes: [
        { id: 'src', type: 'transform', expression: '[1, 2, 3]' },
        {
          id: 'each_n',
          type: 'map',
          items: '$src',
          concurrency: 2,
          do: { type: 'workflow', workflow: 'square', input: { n: '$item' } },
        },
      ],
      edges: [{ from: 'src', to: 'each_n' }],
    });
    const rec = await h.run(wf);
    expect(rec.status).toBe('succeeded');
    const items = (rec.output as { each_n: { items: { sq: number; _run: string }[] } }).each_n.items;
    expect(items.map((i) => i.sq)).toEqual([1, 4, 9]);
    const child = (await h.engine.getRun(items[2]!._run))!;
    expect(child).toMatchObject({ parentRunId: rec.id, parentNodeId: 'each_n', parentItem: 2 });
    expect(rec.nodes.each_n!.items!['2']!.childRunId).toBe(items[2]!._run);
  });
});
