/**
 * A2A tasks outlive the server: a Trellis on a real SQLite file is stopped and started again on
 * the same port between the calls of the official `@a2a-js/sdk` client (protocol 1.0, one client
 * across the restart). After the restart `tasks/get` knows the task and its state, the answer to
 * an `input-required` task decides the gate and the task completes, `tasks/cancel` cancels the
 * run, resubscribing to a `working` task streams its run to the end, `tasks/list` lists it, and a
 * gate decided in the console while nobody follows the task shows in `tasks/get`.
 * Without a restart, the same client: a reply that is neither an approval nor a rejection decides
 * nothing (the gate is never approved for the caller), resubscribing to a working task streams it
 * to the end, and the final message carries the run's cost.
 */
/* biome-ignore-all lint/suspicious/noExplicitAny: the test reads arbitrary response JSON */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Message, Role, type Task, TaskState } from '@a2a-js/sdk';
import {
  type Client,
  ClientFactory,
  ClientFactoryOptions,
  DefaultAgentCardResolver,
  JsonRpcTransportFactory,
} from '@a2a-js/sdk/client';
import { createHostExecutors } from '@trellis/connectors';
import type { Executor } from '@trellis/core';
import { createEngine, type RunnerEngine } from '@trellis/runtime';
import { ensureAdmin, openSqlite, type SqliteHandle, SqliteRunStore } from '@trellis/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer, type TrellisServer } from '../src/index.ts';

const TOKEN = 'restart-admin-token-0123456789abcdef';
const file = join(mkdtempSync(join(tmpdir(), 'trellis-a2a-restart-')), 'db.sqlite');

/** A tool that takes `ms` milliseconds (long enough to outlast a restart). */
const slow: Executor = {
  async execute(input, ctx) {
    const ms = (input as { ms?: number } | null)?.ms ?? 0;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, ms);
      ctx.signal?.addEventListener('abort', () => {
        clearTimeout(t);
        reject(new Error('aborted'));
      });
    });
    return { kind: 'succeeded', output: { slept: ms } };
  },
};

/** A tool that reports a cost, as a model call would. */
const costly: Executor = {
  async execute(_input, ctx) {
    ctx.reportCost({ costUsd: 0.125, usage: { inputTokens: 300, outputTokens: 40 } });
    return { kind: 'succeeded', output: { priced: true } };
  },
};

interface Running {
  url: string;
  engine: RunnerEngine;
  stop(): Promise<void>;
}

/** One server process's worth: the database file, the engine (which resumes runs), the HTTP server. */
async function start(port: number): Promise<Running> {
  const handle: SqliteHandle = await openSqlite(file);
  const host = createHostExecutors({ db: handle.db, allowLoopback: true, tools: { 'test.slow': slow, 'test.costly': costly } });
  const engine = createEngine({ store: new SqliteRunStore(handle), executors: host.resolver, pollMs: 50 });
  await engine.whenReady();
  const server: TrellisServer = await buildServer({ store: handle, engine, connectors: host.connectors, consoleDir: false });
  await ensureAdmin(handle.db, TOKEN);
  const url = (await server.app.listen({ host: '127.0.0.1', port })).replace('[::1]', '127.0.0.1');
  return {
    url,
    engine,
    async stop() {
      server.app.server.closeAllConnections();
      await server.app.close();
      await engine.shutdown(0);
      await host.close();
      await handle.close();
    },
  };
}

let running: Running;
let port = 0;
async function restart(): Promise<void> {
  await running.stop();
  // The clients' kept-alive connections see the server's close before the next request.
  await new Promise((r) => setTimeout(r, 100));
  running = await start(port);
}

beforeAll(async () => {
  running = await start(0);
  port = Number(new URL(running.url).port);
});
afterAll(async () => {
  await running?.stop();
});

async function api(method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${running.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** The official client, from the workflow's card; it keeps working across the restart (same URL). */
async function client(workflowId: string): Promise<Client> {
  const authed: typeof fetch = (input, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${TOKEN}`);
    return fetch(input, { ...init, headers });
  };
  return new ClientFactory(
    ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
      cardResolver: new DefaultAgentCardResolver({ fetchImpl: authed }),
      transports: [new JsonRpcTransportFactory({ fetchImpl: authed })],
    }),
  ).createFromUrl(`${running.url}/a2a/workflows/${workflowId}/.well-known/agent-card.json`, '');
}

const part = {
  data: (value: Record<string, unknown>): Message['parts'][number] => ({
    content: { $case: 'data', value },
    metadata: undefined,
    filename: '',
    mediaType: 'application/json',
  }),
  text: (value: string): Message['parts'][number] => ({
    content: { $case: 'text', value },
    metadata: undefined,
    filename: '',
    mediaType: 'text/plain',
  }),
};

function send(parts: Message['parts'], taskId = '', contextId = '') {
  return {
    tenant: '',
    message: {
      messageId: randomUUID(),
      role: Role.ROLE_USER,
      parts,
      taskId,
      contextId,
      extensions: [],
      metadata: {},
      referenceTaskIds: [],
    },
    configuration: undefined,
    metadata: {},
  };
}

/** Sends an empty data message without blocking: the task comes back while it still works. */
const startTask = async (a2a: Client) =>
  (await a2a.sendMessage({
    ...send([part.data({})]),
    configuration: {
      acceptedOutputModes: [],
      taskPushNotificationConfig: undefined,
      historyLength: undefined,
      returnImmediately: true,
    },
  })) as Task;
const get = (a2a: Client, id: string) => a2a.getTask({ tenant: '', id, historyLength: undefined });
const dataOf = (t: Task) =>
  t.status?.message?.parts.find((p) => p.content?.$case === 'data')?.content?.value as Record<string, unknown> | undefined;
const textOf = (t: Task) => JSON.stringify(t.status?.message?.parts ?? []);

const gated = (name: string) => ({
  name,
  inputSchema: { type: 'object', properties: { amount: { type: 'number' } } },
  nodes: [
    { id: 'draft', type: 'transform', expression: "{ 'amount': $context.amount }" },
    { id: 'ok', type: 'human_gate', prompt: 'Refund {{ $draft.amount }}?' },
  ],
  edges: [{ from: 'draft', to: 'ok' }],
  output: { refunded: '$draft.amount' },
});

describe('A2A tasks across a restart of the serving Trellis', () => {
  it('tasks/get and the answer to an input-required task work after a restart', async () => {
    const wf = await api('POST', '/workflows', gated('refund-after-restart'));
    const a2a = await client(wf.id);
    const first = (await a2a.sendMessage(send([part.data({ amount: 42 })]))) as Task;
    expect(first.status?.state).toBe(TaskState.TASK_STATE_INPUT_REQUIRED);

    await restart();

    const read = await get(a2a, first.id);
    expect(read.status?.state).toBe(TaskState.TASK_STATE_INPUT_REQUIRED);
    expect(textOf(read)).toContain('Refund 42?');
    expect(read.contextId).toBe(first.contextId);
    expect(read.metadata?.trellisRunId).toBe(first.metadata?.trellisRunId);
    // The caller's first message is still in the history.
    expect(JSON.stringify(read.history)).toContain('"amount":42');

    const done = (await a2a.sendMessage(send([part.text('approve')], first.id, first.contextId))) as Task;
    expect(done.status?.state, textOf(done)).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(dataOf(done)).toEqual({ refunded: 42 });
    expect(done.status?.message?.metadata).toMatchObject({ costUsd: 0 });
    const run = await running.engine.getRun(String(first.metadata?.trellisRunId));
    expect(run?.status).toBe('succeeded');
    expect((await get(a2a, first.id)).status?.state).toBe(TaskState.TASK_STATE_COMPLETED);

    // Another principal does not see the task.
    const listed = await a2a.listTasks({
      tenant: '',
      contextId: '',
      status: TaskState.TASK_STATE_UNSPECIFIED,
      pageSize: 10,
      pageToken: '',
      historyLength: 0,
      statusTimestampAfter: undefined,
      includeArtifacts: false,
    });
    expect(listed.tasks.map((t) => t.id)).toContain(first.id);
  });

  it('tasks/cancel after a restart cancels the run', async () => {
    const wf = await api('POST', '/workflows', gated('cancel-after-restart'));
    const a2a = await client(wf.id);
    const first = (await a2a.sendMessage(send([part.data({ amount: 7 })]))) as Task;
    expect(first.status?.state).toBe(TaskState.TASK_STATE_INPUT_REQUIRED);

    await restart();

    const cancelled = await a2a.cancelTask({ tenant: '', id: first.id, metadata: undefined });
    expect(cancelled.status?.state).toBe(TaskState.TASK_STATE_CANCELED);
    const run = await running.engine.waitForRun(String(first.metadata?.trellisRunId));
    expect(run.status).toBe('cancelled');
    expect((await get(a2a, first.id)).status?.state).toBe(TaskState.TASK_STATE_CANCELED);
  });

  it('resubscribing to a working task after a restart streams its run to the end', async () => {
    const wf = await api('POST', '/workflows', {
      name: 'slow-after-restart',
      nodes: [
        { id: 'nap', type: 'tool_call', tool: 'test.slow', input: { ms: 1500 } },
        { id: 'after', type: 'transform', expression: "{ 'woke': $nap.slept }" },
      ],
      edges: [{ from: 'nap', to: 'after' }],
      output: { woke: '$after.woke' },
    });
    const a2a = await client(wf.id);
    // Non-blocking: the task comes back working.
    const started = await startTask(a2a);
    const runId = String(started.metadata?.trellisRunId);
    await expect.poll(async () => (await running.engine.getRun(runId))?.nodes.nap?.status).toBe('running');

    await restart();

    expect((await get(a2a, started.id)).status?.state).toBe(TaskState.TASK_STATE_WORKING);
    const states: TaskState[] = [];
    const updates: string[] = [];
    for await (const ev of a2a.resubscribeTask({ tenant: '', id: started.id })) {
      const p = ev.payload;
      if (p?.$case === 'task') states.push(p.value.status?.state ?? TaskState.TASK_STATE_UNSPECIFIED);
      if (p?.$case === 'statusUpdate') {
        states.push(p.value.status?.state ?? TaskState.TASK_STATE_UNSPECIFIED);
        const t = p.value.status?.message?.parts.find((x) => x.content?.$case === 'text')?.content?.value;
        if (typeof t === 'string') updates.push(t);
      }
    }
    expect(states[0]).toBe(TaskState.TASK_STATE_WORKING);
    expect(states.at(-1)).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(updates).toContain('after: succeeded');
    const done = await get(a2a, started.id);
    expect(done.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(dataOf(done)).toEqual({ woke: 1500 });
  });

  it('a gate decided in the console while nobody follows the task shows in tasks/get', async () => {
    const wf = await api('POST', '/workflows', gated('decided-in-console'));
    const a2a = await client(wf.id);
    const first = (await a2a.sendMessage(send([part.data({ amount: 5 })]))) as Task;
    const runId = String(first.metadata?.trellisRunId);
    await restart();
    await api('POST', `/workflow_runs/${runId}/nodes/ok/approve`, { comment: 'from the console' });
    await running.engine.waitForRun(runId);
    const read = await get(a2a, first.id);
    expect(read.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(dataOf(read)).toEqual({ refunded: 5 });
    // The final message is in the history once, also when read twice.
    await get(a2a, first.id);
    const again = await get(a2a, first.id);
    const finals = again.history.filter((m) => m.messageId === `trellis:${runId}:completed`);
    expect(finals).toHaveLength(1);
  });
});

describe('the A2A SDK client (1.0), no restart', () => {
  it('a reply that is neither approve nor reject decides nothing: the task asks again and the run still waits', async () => {
    const wf = await api('POST', '/workflows', gated('unclear-reply'));
    const a2a = await client(wf.id);
    const first = (await a2a.sendMessage(send([part.data({ amount: 3 })]))) as Task;
    const runId = String(first.metadata?.trellisRunId);
    const again = (await a2a.sendMessage(send([part.text('hmm, maybe later')], first.id, first.contextId))) as Task;
    expect(again.status?.state).toBe(TaskState.TASK_STATE_INPUT_REQUIRED);
    expect(textOf(again)).toMatch(/Refund 3\?.*answer .*approve.* or .*reject/);
    const run = await running.engine.getRun(runId);
    expect(run?.status).toBe('waiting');
    expect(run?.nodes.ok?.status).toBe('waiting');
    const rejected = (await a2a.sendMessage(
      send([part.data({ approved: false, comment: 'no' })], first.id, first.contextId),
    )) as Task;
    expect(rejected.status?.state).toBe(TaskState.TASK_STATE_FAILED);
    expect((await running.engine.getRun(runId))?.nodes.ok?.status).not.toBe('succeeded');
  });

  it('resubscribing to a working task streams it to the end; the final message carries the run cost', async () => {
    const wf = await api('POST', '/workflows', {
      name: 'costly-resubscribe',
      nodes: [
        { id: 'price', type: 'tool_call', tool: 'test.costly', input: {} },
        { id: 'nap', type: 'tool_call', tool: 'test.slow', input: { ms: 600 } },
      ],
      edges: [{ from: 'price', to: 'nap' }],
      output: { slept: '$nap.slept' },
    });
    const a2a = await client(wf.id);
    const started = await startTask(a2a);
    let last: Task['status'];
    for await (const ev of a2a.resubscribeTask({ tenant: '', id: started.id })) {
      if (ev.payload?.$case === 'statusUpdate') last = ev.payload.value.status;
    }
    expect(last?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(last?.message?.metadata).toMatchObject({ costUsd: 0.125, usage: { inputTokens: 300, outputTokens: 40 } });
    const done = await get(a2a, started.id);
    expect(done.status?.message?.metadata).toMatchObject({ costUsd: 0.125 });
    expect(done.metadata).toMatchObject({ costUsd: 0.125 });
  });
});
