import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeDefinition, TrellisError } from '@trellis/core';
import { createOutboundGuard, LOOPBACK_ALLOW_HOSTS } from '@trellis/runtime';
import { openSqlite, type SqliteHandle } from '@trellis/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type A2ARemoteRef, AgentRegistry, createAgentCallExecutor } from '../src/index.ts';
import { makeContext, rejection } from './helpers/context.ts';
import { type ScriptedAgent, startScriptedAgent } from './helpers/scripted-agent.ts';

const guard = createOutboundGuard({ allowHosts: LOOPBACK_ALLOW_HOSTS });
let dir: string;
let store: SqliteHandle;
let registry: AgentRegistry;
const agents: Record<'stream' | 'plain' | 'legacy', ScriptedAgent> = {} as never;
let exec: ReturnType<typeof createAgentCallExecutor>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trellis-a2a-'));
  store = await openSqlite(join(dir, 'trellis.db'));
  registry = new AgentRegistry({ db: store.db, fetch: guard.fetch });
  agents.stream = await startScriptedAgent({ streaming: true });
  agents.plain = await startScriptedAgent({ streaming: false });
  agents.legacy = await startScriptedAgent({ streaming: false, protocol: '0.3' });
  for (const [name, a] of Object.entries(agents)) await registry.register({ url: a.url, name, createdBy: 'tester' });
  exec = createAgentCallExecutor({ agents: registry, fetch: guard.fetch, pollIntervalMs: 20 });
});
afterAll(async () => {
  for (const a of Object.values(agents)) await a.close();
  await store.close();
  await guard.close();
  rmSync(dir, { recursive: true, force: true });
});

function node(agent: string | { url: string }, extra: Partial<NodeDefinition> = {}): NodeDefinition {
  return { id: 'ask_agent', type: 'agent_call', agent, skill: 'script', ...extra } as NodeDefinition;
}

describe.each(['stream', 'plain', 'legacy'] as const)('agent_call against a %s agent', (kind) => {
  it('completed → succeeded with merged data, text, artifacts and the reported cost', async () => {
    const before = agents[kind].sends.length;
    const ctx = makeContext({
      node: node(kind, { message: 'Find {{ $context.city }}' }),
      scope: { context: { city: 'Lisbon' } },
    });
    const result = await exec.execute({ script: 'complete', city: 'Lisbon' }, ctx);
    expect(result.kind).toBe('succeeded');
    const output = (result as { output: Record<string, unknown> }).output;
    expect(output).toMatchObject({ answer: 42, echo: { script: 'complete', city: 'Lisbon' }, extra: true });
    expect(output.text).toBe('the answer\nall good');
    expect(output.artifacts).toEqual([
      expect.objectContaining({
        name: 'result',
        parts: [expect.objectContaining({ kind: 'data' }), { kind: 'text', text: 'the answer' }],
      }),
    ]);
    expect(ctx.costs).toEqual([{ costUsd: 0.0123, usage: { inputTokens: 1200, outputTokens: 340 } }]);
    // The message carried the rendered text, the input and Trellis metadata.
    const sent = agents[kind].sends[before];
    expect(sent?.text).toBe('Find Lisbon');
    expect(sent?.metadata).toMatchObject({
      trellis: { runId: 'run_test', nodeId: 'ask_agent', attempt: 1, idempotencyKey: 'run_test:ask_agent:1' },
      skill: 'script',
    });
    // The task id was stored before waiting.
    expect(ctx.savedRefs[0]).toMatchObject({ kind: 'a2a', taskId: sent?.taskId, agentUrl: agents[kind].url });
  });

  it('failed and rejected → AGENT_ERROR (not retried); canceled → CANCELLED', async () => {
    const failed = (await rejection(exec.execute({ script: 'fail' }, makeContext({ node: node(kind) })))) as TrellisError;
    expect(failed).toMatchObject({ code: 'AGENT_ERROR', retryable: false });
    expect(failed.message).toContain('boom: the index is offline');
    const rejected = (await rejection(exec.execute({ script: 'reject' }, makeContext({ node: node(kind) })))) as TrellisError;
    expect(rejected).toMatchObject({ code: 'AGENT_ERROR', retryable: false });
    expect(rejected.message).toContain('rejected the task: not my job');
    const cancelled = (await rejection(exec.execute({ script: 'cancel' }, makeContext({ node: node(kind) })))) as TrellisError;
    expect(cancelled.code).toBe('CANCELLED');
  });

  it('auth-required → waiting with the agent’s words as the prompt', async () => {
    const result = await exec.execute({ script: 'auth' }, makeContext({ node: node(kind) }));
    expect(result).toEqual({ kind: 'waiting', prompt: 'Please sign in to the booking system' });
  });

  it('input-required round trip: waiting, then the approval’s comment and data go to the same task', async () => {
    const first = makeContext({ node: node(kind) });
    const waiting = await exec.execute({ script: 'ask' }, first);
    expect(waiting).toEqual({ kind: 'waiting', prompt: 'Which colour do you want?' });
    const ref = first.savedRefs.at(-1) as A2ARemoteRef;
    const before = agents[kind].sends.length;
    const resumed = makeContext({
      node: node(kind),
      remoteRef: ref,
      decision: { approved: true, by: 'ana', comment: 'blue', data: { shade: 'navy' } },
    });
    const result = await exec.execute({ script: 'ask' }, resumed);
    expect(result).toMatchObject({
      kind: 'succeeded',
      output: { reply: 'blue', replyData: { shade: 'navy' }, text: 'you said: blue' },
    });
    expect(agents[kind].sends.length).toBe(before + 1);
    expect(agents[kind].sends.at(-1)?.taskId).toBe(ref.taskId);
    expect(first.costs).toEqual([{ costUsd: 0.001 }]);
    expect(resumed.costs).toEqual([{ costUsd: 0.004 }]);
  });

  it('input-required then rejected: CancelTask reaches the agent and the node fails with GATE_REJECTED', async () => {
    const first = makeContext({ node: node(kind) });
    await exec.execute({ script: 'ask' }, first);
    const ref = first.savedRefs.at(-1) as A2ARemoteRef;
    const err = (await rejection(
      exec.execute(
        {},
        makeContext({ node: node(kind), remoteRef: ref, decision: { approved: false, by: 'ana', comment: 'no' } }),
      ),
    )) as TrellisError;
    expect(err).toMatchObject({ code: 'GATE_REJECTED', retryable: false });
    expect(agents[kind].cancels).toContain(ref.taskId);
  });

  it('cancel() of a waiting task sends tasks/cancel and nothing else', async () => {
    const first = makeContext({ node: node(kind) });
    await exec.execute({ script: 'ask' }, first);
    const ref = first.savedRefs.at(-1) as A2ARemoteRef;
    const sends = agents[kind].sends.length;
    await exec.cancel!({
      runId: 'r',
      nodeId: 'n',
      attempt: 1,
      node: node(kind),
      remoteRef: ref,
      reason: 'stop',
      logger: console,
    });
    expect(agents[kind].cancels.at(-1)).toBe(ref.taskId);
    expect(agents[kind].sends.length).toBe(sends);
    // Nothing to cancel without a task reference.
    const cancels = agents[kind].cancels.length;
    await exec.cancel!({
      runId: 'r',
      nodeId: 'n',
      attempt: 1,
      node: node(kind),
      remoteRef: undefined,
      reason: 'stop',
      logger: console,
    });
    expect(agents[kind].cancels.length).toBe(cancels);
  });

  it('cancellation of the run sends CancelTask to the agent', async () => {
    const ctx = makeContext({ node: node(kind), onSaveRef: () => void setTimeout(() => ctx.controller.abort(), 100) });
    const err = await rejection(exec.execute({ script: 'slow', delayMs: 10_000 }, ctx));
    expect((err as Error).name).toBe('AbortError');
    const ref = ctx.savedRefs[0] as A2ARemoteRef;
    expect(agents[kind].cancels).toContain(ref.taskId);
  });

  it('an agent registered again at another URL (restarted on another port): the resumed attempt answers the same task there', async () => {
    // A second address for the same agent: a server that hands out its card (whose interface
    // points at the agent), registered under another name, as after a re-registration.
    const card = agents[kind].card;
    const moved = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(card));
    });
    await new Promise<void>((r) => moved.listen(0, '127.0.0.1', r));
    const movedName = `${kind}-moved`;
    try {
      await registry.register({
        url: `http://127.0.0.1:${(moved.address() as AddressInfo).port}`,
        name: movedName,
        createdBy: 'tester',
      });
      const first = makeContext({ node: node(kind) });
      expect(await exec.execute({ script: 'ask' }, first)).toEqual({ kind: 'waiting', prompt: 'Which colour do you want?' });
      const ref = first.savedRefs.at(-1) as A2ARemoteRef;
      const before = agents[kind].sends.length;
      const resumed = makeContext({
        node: node(movedName),
        remoteRef: ref,
        decision: { approved: true, by: 'ana', comment: 'blue' },
      });
      expect(await exec.execute({ script: 'ask' }, resumed)).toMatchObject({ kind: 'succeeded', output: { reply: 'blue' } });
      // One message, the reply, to the same task; the ref now names the new address.
      expect(agents[kind].sends.length).toBe(before + 1);
      expect(agents[kind].sends.at(-1)?.taskId).toBe(ref.taskId);
      expect(resumed.savedRefs[0]).toMatchObject({
        taskId: ref.taskId,
        agentUrl: expect.stringContaining(`:${(moved.address() as AddressInfo).port}`),
      });
      // A task the agent at the new address does not know: a new task, started once.
      const unknown = makeContext({ node: node(movedName), remoteRef: { ...ref, taskId: 'no-such-task' } });
      expect(await exec.execute({ script: 'complete' }, unknown)).toMatchObject({ kind: 'succeeded', output: { answer: 42 } });
      expect(agents[kind].sends.length).toBe(before + 2);
      expect(agents[kind].sends.at(-1)?.taskId).not.toBe('no-such-task');
    } finally {
      await registry.delete(movedName);
      moved.close();
    }
  });

  it('a worker that dies after saving the task id: the next attempt re-attaches, no second send', async () => {
    const before = agents[kind].sends.length;
    const dying = makeContext({
      node: node(kind),
      onSaveRef: () => {
        throw new Error('worker killed');
      },
    });
    await rejection(exec.execute({ script: 'slow', delayMs: 400 }, dying));
    const ref = dying.savedRefs[0] as A2ARemoteRef;
    const retry = makeContext({ node: node(kind), attempt: 2, remoteRef: ref });
    const result = await exec.execute({ script: 'slow', delayMs: 400 }, retry);
    expect(result).toMatchObject({ kind: 'succeeded', output: { slept: true } });
    expect(agents[kind].sends.length).toBe(before + 1);
    // And a task that had already completed is read back, not re-sent.
    const again = await exec.execute({ script: 'slow' }, makeContext({ node: node(kind), attempt: 3, remoteRef: ref }));
    expect(again).toMatchObject({ kind: 'succeeded', output: { slept: true } });
    expect(agents[kind].sends.length).toBe(before + 1);
  });
});

describe('agent_call: resolution and transport errors', () => {
  let broken: Server;
  let brokenUrl: string;
  beforeAll(async () => {
    broken = createServer((req, res) => {
      if (req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            ...agents.plain.card,
            supportedInterfaces: [{ ...agents.plain.card.supportedInterfaces[0], url: `${brokenUrl}/a2a` }],
          }),
        );
        return;
      }
      res.writeHead(503, { 'retry-after': '2' });
      res.end('overloaded');
    });
    await new Promise<void>((r) => broken.listen(0, '127.0.0.1', r));
    brokenUrl = `http://127.0.0.1:${(broken.address() as AddressInfo).port}`;
  });
  afterAll(() => void broken.close());

  it('reaches an unregistered agent by { url } and a direct message reply', async () => {
    const result = await exec.execute({ script: 'message' }, makeContext({ node: node({ url: agents.stream.url }) }));
    expect(result).toMatchObject({ kind: 'succeeded', output: { direct: true, text: 'direct reply' } });
  });

  it('unknown agent → AGENT_NOT_FOUND', async () => {
    const err = (await rejection(exec.execute({}, makeContext({ node: node('nobody') })))) as TrellisError;
    expect(err).toMatchObject({ code: 'AGENT_NOT_FOUND', retryable: false });
  });

  it('5xx is retryable with Retry-After; an unreachable agent is a retryable NETWORK_ERROR', async () => {
    const e503 = (await rejection(exec.execute({}, makeContext({ node: node({ url: brokenUrl }) })))) as TrellisError;
    expect(e503).toMatchObject({ code: 'HTTP_503', retryable: true, retryAfterMs: 2000 });
    const port = (broken.address() as AddressInfo).port;
    await new Promise<void>((r) => broken.close(() => r()));
    const down = (await rejection(
      exec.execute({}, makeContext({ node: node({ url: `http://127.0.0.1:${port}` }) })),
    )) as TrellisError;
    expect(down).toMatchObject({ code: 'NETWORK_ERROR', retryable: true });
  });

  it('the outbound guard applies: a loopback agent is refused without TRELLIS_ALLOW_HOSTS', async () => {
    const strict = createOutboundGuard();
    const strictExec = createAgentCallExecutor({
      agents: new AgentRegistry({ db: store.db, fetch: strict.fetch }),
      fetch: strict.fetch,
    });
    const err = (await rejection(
      strictExec.execute({}, makeContext({ node: node({ url: agents.stream.url }) })),
    )) as TrellisError;
    expect(err.code).toBe('OUTBOUND_BLOCKED');
    await strict.close();
  });
});

describe('agent_call: a cancel that races the send', () => {
  // Whether the agent's answer (the task id) arrived before the abort depends on timing; the
  // executor keeps the request open up to 2 s after a cancel to learn it, so either way the
  // agent must get CancelTask.
  it.each(['stream', 'plain'] as const)('a cancel right after the send still reaches a %s agent', async (kind) => {
    const cancelsBefore = agents[kind].cancels.length;
    const sendsBefore = agents[kind].sends.length;
    const ctx = makeContext({ node: node(kind) });
    const running = exec.execute({ script: 'slow', delayMs: 10_000 }, ctx);
    // Abort as soon as the agent has the message, before its answer (the task id) comes back.
    for (let i = 0; i < 500 && agents[kind].sends.length === sendsBefore; i++) await new Promise((r) => setImmediate(r));
    ctx.controller.abort();
    await rejection(running);
    for (let i = 0; i < 150 && agents[kind].cancels.length === cancelsBefore; i++) await new Promise((r) => setTimeout(r, 20));
    expect(agents[kind].cancels.length).toBe(cancelsBefore + 1);
  });
});
