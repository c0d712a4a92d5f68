/**
 * The console's API client against the real server (SPEC §4): the list envelopes, problem+json
 * errors with validation codes, 401 signing out, gate decisions, and events after a seq.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../src/api/client.ts';
import { ApiError } from '../src/api/problem.ts';
import type { WorkflowDefinition } from '../src/api/types.ts';
import { type Stack, startStack } from './helpers/stack.ts';

let stack: Stack;
let api: ApiClient;

const gated = {
  name: 'client-gated',
  inputSchema: { type: 'object', required: ['item'], properties: { item: { type: 'string' } } },
  nodes: [
    { id: 'prepare', type: 'transform', expression: '{ "item": $context.item }' },
    { id: 'approve', type: 'human_gate', prompt: 'Buy {{ $prepare.item }}?' },
  ],
  edges: [{ from: 'prepare', to: 'approve' }],
} as unknown as WorkflowDefinition;

beforeAll(async () => {
  stack = await startStack(false);
  api = new ApiClient({ baseUrl: stack.url, token: stack.token });
});
afterAll(async () => stack?.close());

describe('ApiClient against the real server', () => {
  it('creates, lists (normalising the version), saves a new version and reads the history', async () => {
    const created = await api.createWorkflow(gated);
    expect(created.id).toBeTruthy();
    const list = await api.listWorkflows();
    const row = list.items.find((w) => w.id === created.id);
    expect(row?.version).toBe(1);
    const saved = await api.saveWorkflow(created.id, { ...gated, description: 'v2' });
    expect(saved.version).toBe(2);
    const versions = await api.listVersions(created.id);
    expect(versions.map((v) => v.version).sort()).toEqual([1, 2]);
    const v1 = await api.getVersion(created.id, 1);
    expect(v1.definition.name).toBe('client-gated');
    const detail = await api.getWorkflow(created.id);
    expect(detail.definition.description).toBe('v2');
  });

  it('turns a 422 into an ApiError carrying the compiler codes', async () => {
    const bad = {
      name: 'bad',
      nodes: [{ id: 'a', type: 'transform', expression: '$nope.x +' }],
      edges: [],
    } as unknown as WorkflowDefinition;
    const err = await api.createWorkflow(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(422);
    expect((err as ApiError).kind).toBe('invalid');
    expect((err as ApiError).errors.map((e) => e.code)).toContain('EXPRESSION_SYNTAX');
  });

  it('calls onUnauthorized on a bad token', async () => {
    let signedOut = 0;
    const bad = new ApiClient({ baseUrl: stack.url, token: 'nope', onUnauthorized: () => signedOut++ });
    const err = await bad.listWorkflows().catch((e: unknown) => e);
    expect((err as ApiError).kind).toBe('unauthorized');
    expect(signedOut).toBe(1);
  });

  it('reports a network failure as an ApiError of kind network', async () => {
    const down = new ApiClient({ baseUrl: 'http://127.0.0.1:9', token: 't' });
    const err = await down.listWorkflows().catch((e: unknown) => e);
    expect((err as ApiError).kind).toBe('network');
  });

  it('starts a run, reads events after a seq, approves the gate; a second decision is a conflict', async () => {
    const wf = await api.createWorkflow(gated);
    const refused = await api.startRun(wf.id, {}).catch((e: unknown) => e);
    expect((refused as ApiError).status).toBe(422);
    const run = await api.startRun(wf.id, { item: 'lamp' });
    await stack.engine.waitForRun(run.id, { orWaiting: true });
    const all = await api.listEvents(run.id, 0);
    expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));
    const tail = await api.listEvents(run.id, 2);
    expect(tail[0]?.seq).toBe(3);
    expect((await api.getRun(run.id)).nodes.approve?.status).toBe('waiting');
    await api.decideGate(run.id, 'approve', 'approve', { comment: 'fine', data: { n: 1 } });
    const done = await stack.engine.waitForRun(run.id);
    expect(done.status).toBe('succeeded');
    const again = await api.decideGate(run.id, 'approve', 'reject', {}).catch((e: unknown) => e);
    expect((again as ApiError).kind).toBe('conflict');
    const runs = await api.listRuns(wf.id);
    expect(runs.items.map((r) => r.id)).toContain(run.id);
  });
  it('reads how to call a workflow and its triggers, and creates a webhook secret, all through the schemas', async () => {
    const created = await api.createWorkflow({
      ...gated,
      name: 'client-triggers',
      triggers: [{ id: 'hook', type: 'webhook' }],
    } as unknown as WorkflowDefinition);
    const info = await api.callInfo(created.id);
    expect(info).toMatchObject({ workflowId: created.id, canRun: true, rest: { runUrl: expect.stringContaining(created.id) } });
    const [hook] = await api.listTriggers(created.id);
    expect(hook).toMatchObject({ id: 'hook', type: 'webhook', webhook: { hasSecret: false } });
    const { secret } = await api.createTriggerSecret(created.id, 'hook');
    expect(secret).toMatch(/^whsec_/);
    expect((await api.listTriggers(created.id))[0]?.webhook?.hasSecret).toBe(true);
    const missing = await api.createTriggerSecret(created.id, 'nope').catch((e: unknown) => e);
    expect(missing).toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });
});
