/**
 * A Trellis workflow called by the official A2A SDK client speaking protocol 0.3 (the SDK's
 * `LegacyJsonRpcTransport`, as an older A2A client would): the wire carries 0.3 JSON-RPC
 * (`message/send`, `message/stream`, `tasks/get`, `tasks/cancel`, parts with `kind`), and a caller
 * can call, follow, answer a gate, resubscribe and cancel — the server's 0.3 compatibility layer answers.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Message, Role, type SendMessageRequest, type Task, TaskState } from '@a2a-js/sdk';
import { LegacyJsonRpcTransport } from '@a2a-js/sdk/compat/v0_3/client';
import { createHostExecutors } from '@trellis/connectors';
import { createEngine, type RunnerEngine } from '@trellis/runtime';
import { ensureAdmin, openSqlite, type SqliteHandle, SqliteRunStore } from '@trellis/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer, type TrellisServer } from '../src/index.ts';

const TOKEN = 'legacy-admin-token-0123456789abcdef';
let handle: SqliteHandle;
let engine: RunnerEngine;
let server: TrellisServer;
let host: ReturnType<typeof createHostExecutors>;
let url: string;
/** Every JSON-RPC request body the client sent. */
const wire: { method: string; params: unknown }[] = [];

beforeAll(async () => {
  handle = await openSqlite(join(mkdtempSync(join(tmpdir(), 'trellis-a2a03-')), 'db.sqlite'));
  host = createHostExecutors({
    db: handle.db,
    allowLoopback: true,
    tools: {
      'test.nap': {
        async execute(input) {
          await new Promise((r) => setTimeout(r, (input as { ms: number }).ms));
          return { kind: 'succeeded', output: { napped: true } };
        },
      },
    },
  });
  engine = createEngine({ store: new SqliteRunStore(handle), executors: host.resolver, pollMs: 50 });
  await engine.whenReady();
  server = await buildServer({ store: handle, engine, connectors: host.connectors, consoleDir: false });
  await ensureAdmin(handle.db, TOKEN);
  url = (await server.app.listen({ host: '127.0.0.1', port: 0 })).replace('[::1]', '127.0.0.1');
});
afterAll(async () => {
  await server?.app.close();
  await engine?.shutdown(0);
  await host?.close();
  await handle?.close();
});

async function save(definition: unknown): Promise<string> {
  const res = await fetch(`${url}/api/v1/workflows`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(definition),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

function client(workflowId: string): LegacyJsonRpcTransport {
  return new LegacyJsonRpcTransport({
    endpoint: `${url}/a2a/workflows/${workflowId}`,
    fetchImpl: async (input, init) => {
      if (typeof init?.body === 'string') wire.push(JSON.parse(init.body) as { method: string; params: unknown });
      const headers = new Headers(init?.headers);
      headers.set('authorization', `Bearer ${TOKEN}`);
      return fetch(input, { ...init, headers });
    },
  });
}

function message(parts: Message['parts'], taskId = '', contextId = ''): SendMessageRequest {
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
const data = (value: Record<string, unknown>): Message['parts'][number] => ({
  content: { $case: 'data', value },
  metadata: undefined,
  filename: '',
  mediaType: 'application/json',
});
const text = (value: string): Message['parts'][number] => ({
  content: { $case: 'text', value },
  metadata: undefined,
  filename: '',
  mediaType: 'text/plain',
});
const dataOf = (t: Task) =>
  t.status?.message?.parts.find((p) => p.content?.$case === 'data')?.content?.value as Record<string, unknown> | undefined;

describe('the A2A SDK client in protocol 0.3', () => {
  it('calls a workflow, answers its gate and reads the task; the wire is 0.3 JSON-RPC', async () => {
    const id = await save({
      name: 'legacy-refund',
      inputSchema: { type: 'object', properties: { amount: { type: 'number' } } },
      nodes: [
        { id: 'draft', type: 'transform', expression: "{ 'amount': $context.amount }" },
        { id: 'ok', type: 'human_gate', prompt: 'Refund {{ $draft.amount }}?' },
      ],
      edges: [{ from: 'draft', to: 'ok' }],
      output: { refunded: '$draft.amount' },
    });
    const a2a = client(id);
    expect(a2a.protocolVersion).toBe('0.3');
    const first = (await a2a.sendMessage(message([data({ amount: 42 })]))) as Task;
    expect(first.status?.state).toBe(TaskState.TASK_STATE_INPUT_REQUIRED);
    expect(JSON.stringify(first.status?.message?.parts)).toContain('Refund 42?');
    const done = (await a2a.sendMessage(message([text('approve')], first.id, first.contextId))) as Task;
    expect(done.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(dataOf(done)).toEqual({ refunded: 42 });
    const read = await a2a.getTask({ tenant: '', id: first.id, historyLength: undefined });
    expect(read.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(read.status?.message?.metadata).toMatchObject({ costUsd: 0 });

    const sent = wire.filter((w) => w.method === 'message/send');
    expect(sent).toHaveLength(2);
    // 0.3 shapes: parts discriminated by `kind`, messages carrying `kind: "message"`.
    expect(JSON.stringify(sent[0]?.params)).toMatch(/"kind":"message"/);
    expect(JSON.stringify(sent[0]?.params)).toMatch(/"kind":"data"/);
    expect(wire.map((w) => w.method)).toContain('tasks/get');
  });

  it('streams node transitions with message/stream, and cancels a task waiting for input with tasks/cancel', async () => {
    const id = await save({
      name: 'legacy-stream',
      nodes: [
        { id: 'prepare', type: 'transform', expression: "{ 'x': 1 }" },
        { id: 'ok', type: 'human_gate', prompt: 'Go on?' },
      ],
      edges: [{ from: 'prepare', to: 'ok' }],
    });
    const a2a = client(id);
    const states: number[] = [];
    const updates: string[] = [];
    let taskId = '';
    for await (const ev of a2a.sendMessageStream(message([data({})]))) {
      const p = ev.payload;
      if (p?.$case === 'task') taskId = p.value.id;
      if (p?.$case === 'statusUpdate') {
        taskId ||= p.value.taskId;
        states.push(p.value.status?.state ?? -1);
        const t = p.value.status?.message?.parts.find((x) => x.content?.$case === 'text')?.content?.value;
        if (typeof t === 'string') updates.push(t);
      }
    }
    expect(updates).toContain('prepare: succeeded');
    expect(states.at(-1)).toBe(TaskState.TASK_STATE_INPUT_REQUIRED);
    const cancelled = await a2a.cancelTask({ tenant: '', id: taskId, metadata: undefined });
    expect(cancelled.status?.state).toBe(TaskState.TASK_STATE_CANCELED);
    const runs = await fetch(`${url}/api/v1/workflows/${id}/runs`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const runId = ((await runs.json()) as { items: { id: string }[] }).items[0]!.id;
    expect((await engine.waitForRun(runId)).status).toBe('cancelled');
    expect(wire.map((w) => w.method)).toEqual(expect.arrayContaining(['message/stream', 'tasks/cancel']));
  });

  it('resubscribes to a working task with tasks/resubscribe and follows it to completed', async () => {
    const id = await save({
      name: 'legacy-resubscribe',
      nodes: [
        { id: 'nap', type: 'tool_call', tool: 'test.nap', input: { ms: 500 } },
        { id: 'after', type: 'transform', expression: "{ 'done': $nap.napped }" },
      ],
      edges: [{ from: 'nap', to: 'after' }],
      output: { done: '$after.done' },
    });
    const a2a = client(id);
    const req = message([data({})]);
    const started = (await a2a.sendMessage({
      ...req,
      configuration: {
        acceptedOutputModes: [],
        taskPushNotificationConfig: undefined,
        historyLength: undefined,
        returnImmediately: true,
      },
    })) as Task;
    expect(started.status?.state).not.toBe(TaskState.TASK_STATE_COMPLETED);
    const states: number[] = [];
    for await (const ev of a2a.resubscribeTask({ tenant: '', id: started.id })) {
      if (ev.payload?.$case === 'statusUpdate') states.push(ev.payload.value.status?.state ?? -1);
    }
    expect(states.at(-1)).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(wire.map((w) => w.method)).toContain('tasks/resubscribe');
  });
});
