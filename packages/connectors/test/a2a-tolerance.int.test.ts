/**
 * A2A tolerance and strictness, against an agent written without the A2A SDK (plain node:http,
 * A2A 0.3) that shows the deviations of third-party servers one at a time: a card under its own
 * path with a relative interface URL, text-only input modes, a `text/plain` answer to
 * `message/stream`, a blocking `message/send`, a JSON-RPC id that is not the request's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeDefinition, TrellisError } from '@trellis/core';
import { createOutboundGuard, LOOPBACK_ALLOW_HOSTS } from '@trellis/runtime';
import { openSqlite, type SqliteHandle } from '@trellis/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentRegistry, createAgentCallExecutor } from '../src/index.ts';
import { cardCandidates } from '../src/internal.ts';
import { type PlainAgent, type PlainAgentOptions, startPlainAgent } from './fixtures/plain-a2a-agent.ts';
import { makeContext, rejection } from './helpers/context.ts';

const guard = createOutboundGuard({ allowHosts: LOOPBACK_ALLOW_HOSTS });
let dir: string;
let store: SqliteHandle;
let registry: AgentRegistry;
let exec: ReturnType<typeof createAgentCallExecutor>;
const started: PlainAgent[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trellis-a2a-tolerance-'));
  store = await openSqlite(join(dir, 'trellis.db'));
  registry = new AgentRegistry({ db: store.db, fetch: guard.fetch });
  exec = createAgentCallExecutor({ agents: registry, fetch: guard.fetch, pollIntervalMs: 20 });
});
afterAll(async () => {
  for (const a of started) await a.close();
  await store.close();
  await guard.close();
  rmSync(dir, { recursive: true, force: true });
});

let seq = 0;
async function agent(options: PlainAgentOptions = {}): Promise<{ a: PlainAgent; name: string }> {
  const a = await startPlainAgent(options);
  started.push(a);
  const name = `plain-${++seq}`;
  await registry.register({ url: a.cardUrl, name, createdBy: 'tester' });
  return { a, name };
}

function node(agentName: string, extra: Partial<NodeDefinition> = {}): NodeDefinition {
  return { id: 'greet', type: 'agent_call', agent: agentName, skill: 'greet', ...extra } as NodeDefinition;
}

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('agent cards under any path', () => {
  it('registers by the card URL, or by the agent URL (its card found under /.well-known/<id>/)', async () => {
    const a = await startPlainAgent({ id: 'finder' });
    started.push(a);
    const byCard = await registry.register({ url: a.cardUrl, name: 'by-card', createdBy: 'tester' });
    expect(byCard.card.supportedInterfaces[0]?.url).toBe(a.interfaceUrl);
    const byBase = await registry.register({ url: a.interfaceUrl, name: 'by-base', createdBy: 'tester' });
    expect(byBase.card.name).toBe('finder');
    expect(byBase.card.supportedInterfaces[0]?.url).toBe(a.interfaceUrl);
    // A call through the agent registered by its base URL reaches the relative interface.
    const out = await exec.execute({}, makeContext({ node: node('by-base', { message: 'there' }) }));
    expect(out).toMatchObject({ kind: 'succeeded', output: { text: 'Hello there' } });
  });

  it('says every place it looked when no card is found', async () => {
    const a = await startPlainAgent({ id: 'hidden' });
    started.push(a);
    const err = (await rejection(
      registry.register({ url: `${a.base}/agents/nowhere`, name: 'nowhere', createdBy: 'tester' }),
    )) as TrellisError;
    expect(err.code).toBe('AGENT_ERROR');
    for (const u of cardCandidates(`${a.base}/agents/nowhere`)) expect(err.message).toContain(u);
    expect(err.message).toMatch(/HTTP 404/);
    expect(cardCandidates(`${a.base}/x/card.json`)).toEqual([`${a.base}/x/card.json`]);
  });
});

describe('declared input modes', () => {
  it('a text-only skill gets the input as JSON in its one text part, not a data part', async () => {
    const { a, name } = await agent();
    const out = await exec.execute({ city: 'Lisbon' }, makeContext({ node: node(name, { message: 'Hi' }) }));
    // One part: some agents (VoltAgent) read only the first text part.
    expect(a.requests.at(-1)?.parts).toEqual([expect.objectContaining({ kind: 'text', text: 'Hi\n\n{"city":"Lisbon"}' })]);
    expect(out).toMatchObject({ output: { text: 'Hello Hi\n\n{"city":"Lisbon"}' } });
  });

  it('a skill that accepts JSON gets a data part', async () => {
    const { a, name } = await agent({ inputModes: ['text/plain', 'application/json'] });
    await exec.execute({ city: 'Porto' }, makeContext({ node: node(name, { message: 'Hi' }) }));
    expect(a.requests.at(-1)?.parts).toEqual([
      expect.objectContaining({ kind: 'text', text: 'Hi' }),
      expect.objectContaining({ kind: 'data', data: { city: 'Porto' } }),
    ]);
  });
});

describe('a stream that is not one', () => {
  it('falls back to message/send when message/stream answers text/plain, and uses message/send from then on', async () => {
    const { a, name } = await agent({ streaming: true, streamAs: 'text/plain' });
    const first = await exec.execute({}, makeContext({ node: node(name, { message: 'one' }) }));
    expect(first).toMatchObject({ kind: 'succeeded', output: { text: 'Hello one' } });
    expect(a.requests.map((r) => r.method)).toEqual(['message/stream', 'message/send']);
    await exec.execute({}, makeContext({ node: node(name, { message: 'two' }) }));
    expect(a.requests.map((r) => r.method)).toEqual(['message/stream', 'message/send', 'message/send']);
  });

  it('a real SSE stream is still used', async () => {
    const { a, name } = await agent({ streaming: true, streamAs: 'sse' });
    const out = await exec.execute({}, makeContext({ node: node(name, { message: 'sse' }) }));
    expect(out).toMatchObject({ output: { text: 'Hello sse' } });
    expect(a.requests.map((r) => r.method)).toEqual(['message/stream']);
  });
});

describe('refused: a JSON-RPC id that is not the request’s', () => {
  it('fails with AGENT_ERROR naming the deviation, not retried', async () => {
    const { name } = await agent({ wrongId: true });
    const err = (await rejection(exec.execute({}, makeContext({ node: node(name, { message: 'x' }) })))) as TrellisError;
    expect(err.code).toBe('AGENT_ERROR');
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(
      new RegExp(`agent ${name} does not follow JSON-RPC 2\\.0: it answered message/send request id (\\S+) with id \\S+-reply`),
    );
    expect(err.message).toContain("the agent must echo the request's id");
  });
});

describe('cancelling a blocking message/send', () => {
  it('aborts the HTTP request when no task id comes back', async () => {
    const { a, name } = await agent({ holdMs: 30_000 });
    const ctx = makeContext({ node: node(name, { message: 'slow' }) });
    const pending = exec.execute({}, ctx);
    await until(() => a.requests.length === 1);
    ctx.controller.abort();
    expect(((await rejection(pending)) as Error).name).toBe('AbortError');
    await until(() => a.aborted.length === 1);
    expect(a.cancels).toEqual([]);
  });

  it('keeps the request open for the configured grace (cancelGraceMs) before aborting it', async () => {
    const patient = createAgentCallExecutor({ agents: registry, fetch: guard.fetch, pollIntervalMs: 20, cancelGraceMs: 4_000 });
    const { a, name } = await agent({ holdMs: 30_000 });
    const ctx = makeContext({ node: node(name, { message: 'slow' }) });
    let settled = false;
    const pending = patient.execute({}, ctx).finally(() => {
      settled = true;
    });
    await until(() => a.requests.length === 1);
    ctx.controller.abort();
    // Past the 2 s default, the request is still open, waiting to learn a task id…
    await new Promise((r) => setTimeout(r, 2_500));
    expect(a.aborted).toEqual([]);
    expect(settled).toBe(false);
    // …and aborted once the 4 s are up.
    expect(((await rejection(pending)) as Error).name).toBe('AbortError');
    await until(() => a.aborted.length === 1);
  });

  it('sends tasks/cancel once the task id is known', async () => {
    const { a, name } = await agent({ answerWorking: true });
    const ctx = makeContext({
      node: node(name, { message: 'long' }),
      onSaveRef: () => void setTimeout(() => ctx.controller.abort(), 50),
    });
    await rejection(exec.execute({}, ctx));
    const ref = ctx.savedRefs[0] as { taskId: string };
    await until(() => a.cancels.length === 1);
    expect(a.cancels).toEqual([ref.taskId]);
  });
});

describe("Mastra 0.24.9's A2A server, as recorded (its card, ids and stream)", () => {
  // Mastra itself is not installed in CI (docs/compatibility.md says why); this agent serves
  // what a by-hand trial of @mastra/server 0.24.9 behind its deployer's route glue served.
  it('registers by the agent URL; every call is refused for its JSON-RPC ids, naming the deviation', async () => {
    const a = await startPlainAgent({ id: 'greeter', flavour: 'mastra', streaming: true, streamAs: 'text/plain', wrongId: true });
    started.push(a);
    const info = await registry.register({ url: a.interfaceUrl, name: 'mastra', createdBy: 'tester' });
    expect(info.card.supportedInterfaces[0]?.url).toBe(a.interfaceUrl);
    const err = (await rejection(
      exec.execute(
        { city: 'Lisbon' },
        makeContext({ node: { id: 'g', type: 'agent_call', agent: 'mastra', message: 'Hi' } as NodeDefinition }),
      ),
    )) as TrellisError;
    expect(a.requests.map((r) => r.method)).toEqual(['message/stream', 'message/send']);
    expect(err.code).toBe('AGENT_ERROR');
    expect(err.message).toMatch(
      /^agent mastra does not follow JSON-RPC 2\.0: it answered message\/send request id \S+ with id [0-9a-f-]{36}\./,
    );
  });

  it('with its ids echoed (a proxy), a text call succeeds: stream fallback, input as JSON text', async () => {
    const a = await startPlainAgent({ id: 'greeter', flavour: 'mastra', streaming: true, streamAs: 'text/plain' });
    started.push(a);
    await registry.register({ url: a.cardUrl, name: 'mastra-fixed', createdBy: 'tester' });
    const out = await exec.execute(
      { city: 'Lisbon' },
      makeContext({ node: { id: 'g', type: 'agent_call', agent: 'mastra-fixed', message: 'Hi' } as NodeDefinition }),
    );
    expect(out).toMatchObject({ kind: 'succeeded', output: { text: 'Hello Hi\n\n{"city":"Lisbon"}' } });
    expect(a.requests.map((r) => r.method)).toEqual(['message/stream', 'message/send']);
  });
});
