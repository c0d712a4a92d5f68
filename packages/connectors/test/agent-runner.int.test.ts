/**
 * agent_call through the real runner (not just the executor): a worker killed between send and
 * result re-attaches without sending twice; cancelling a run reaches the agent; the
 * input-required round trip through a gate decision; the agent's cost summed into the run.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkflowDefinitionInput } from '@trellis/core';
import { createEngine, type RunnerEngine } from '@trellis/runtime';
import { createWorkflow, openSqlite, type SqliteHandle, SqliteRunStore } from '@trellis/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHostExecutors, type HostExecutors } from '../src/index.ts';
import { type ScriptedAgent, startScriptedAgent } from './helpers/scripted-agent.ts';

let agent: ScriptedAgent;
beforeAll(async () => {
  agent = await startScriptedAgent({ streaming: true });
});
afterAll(async () => {
  await agent.close();
});

async function local(
  dbPath: string,
): Promise<{ engine: RunnerEngine; handle: SqliteHandle; host: HostExecutors; close(): Promise<void> }> {
  const handle = await openSqlite(dbPath);
  const host = createHostExecutors({ db: handle.db, allowLoopback: true });
  const engine = createEngine({ store: new SqliteRunStore(handle), executors: host.resolver });
  await engine.whenReady();
  return {
    engine,
    handle,
    host,
    async close() {
      await engine.shutdown(0);
      await host.close();
      await handle.close();
    },
  };
}

const tmpDb = () => join(mkdtempSync(join(tmpdir(), 'trellis-agent-run-')), 'trellis.db');

async function runOne(l: Awaited<ReturnType<typeof local>>, def: WorkflowDefinitionInput) {
  const { id } = await createWorkflow(l.handle.db, { name: def.name, definition: def, owner: 'tester' });
  return l.engine.startRun({ workflowId: id, version: 1, input: {} });
}

describe('agent_call through the runner', () => {
  it('a worker killed between send and result: the restarted worker re-attaches, the agent gets one message', async () => {
    const db = tmpDb();
    const before = agent.sends.length;
    // Asynchronous spawn: the agent lives in this process and must keep answering.
    const child = spawn(process.execPath, [
      '--import',
      'tsx',
      join(import.meta.dirname, 'fixtures', 'agent-worker-child.ts'),
      db,
      agent.url,
    ]);
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    const signal = await new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, s) => r(s)));
    expect(signal, err).toBe('SIGKILL');
    const runId = out.trim().split('\n')[0]!;
    const l = await local(db);
    try {
      const rec = await l.engine.waitForRun(runId);
      expect(rec.status).toBe('succeeded');
      expect(rec.nodes.ask!.output).toMatchObject({ slept: true });
      expect(rec.nodes.ask!.attempts.map((a) => [a.attempt, a.status, a.error?.code])).toEqual([
        [1, 'failed', 'LEASE_EXPIRED'],
        [2, 'succeeded', undefined],
      ]);
      expect(agent.sends.length).toBe(before + 1);
    } finally {
      await l.close();
    }
  });

  it('cancelling the run sends CancelTask to the agent', async () => {
    const l = await local(tmpDb());
    try {
      const { runId } = await runOne(l, {
        name: 'cancel',
        nodes: [
          {
            id: 'ask',
            type: 'agent_call',
            agent: { url: agent.url },
            skill: 'script',
            input: { script: 'slow', delayMs: 10_000 },
          },
        ],
      });
      const before = agent.cancels.length;
      const sent = () => agent.sends.some((s) => JSON.stringify(s.metadata).includes(runId));
      for (let i = 0; i < 200 && !sent(); i++) await new Promise((r) => setTimeout(r, 20));
      expect(sent(), JSON.stringify(agent.sends.at(-1)?.metadata)).toBe(true);
      await l.engine.cancelRun(runId, 'stop');
      const rec = await l.engine.waitForRun(runId);
      expect(rec.status).toBe('cancelled');
      for (let i = 0; i < 100 && agent.cancels.length === before; i++) await new Promise((r) => setTimeout(r, 20));
      expect(agent.cancels.length).toBe(before + 1);
    } finally {
      await l.close();
    }
  });

  it('cancelling a run waiting on an agent’s question is an explicit tasks/cancel, recorded as a cancellation', async () => {
    const l = await local(tmpDb());
    try {
      const { runId } = await runOne(l, {
        name: 'ask-then-cancel',
        nodes: [{ id: 'ask', type: 'agent_call', agent: { url: agent.url }, skill: 'script', input: { script: 'ask' } }],
      });
      const waiting = await l.engine.waitForRun(runId, { orWaiting: true });
      expect(waiting.status).toBe('waiting');
      const taskId = agent.sends.at(-1)!.taskId;
      const sendsBefore = agent.sends.length;
      const cancelsBefore = agent.cancels.length;
      await l.engine.cancelRun(runId, 'no longer needed');
      const rec = await l.engine.waitForRun(runId);
      expect(rec.status).toBe('cancelled');
      expect(rec.nodes.ask!.status).toBe('cancelled');
      expect(rec.nodes.ask!.attempts.map((a) => [a.status, a.error?.code])).toEqual([['cancelled', 'CANCELLED']]);
      for (let i = 0; i < 100 && agent.cancels.length === cancelsBefore; i++) await new Promise((r) => setTimeout(r, 20));
      expect(agent.cancels.slice(cancelsBefore)).toEqual([taskId]);
      // No reply was sent to the agent, and nothing pretends a person rejected anything.
      expect(agent.sends.length).toBe(sendsBefore);
      const events = await new SqliteRunStore(l.handle).readEvents(runId, 0, 100);
      expect(events.map((e) => e.type)).not.toContain('gate.rejected');
      expect(events.filter((e) => e.type === 'node.cancelled').map((e) => e.nodeId)).toEqual(['ask']);
      expect(JSON.stringify(events)).not.toContain('GATE_REJECTED');
    } finally {
      await l.close();
    }
  });

  it('input-required: the node waits with the question; approving answers the same task; cost is summed', async () => {
    const l = await local(tmpDb());
    try {
      const { runId } = await runOne(l, {
        name: 'ask',
        nodes: [{ id: 'ask', type: 'agent_call', agent: { url: agent.url }, skill: 'script', input: { script: 'ask' } }],
      });
      const waiting = await l.engine.waitForRun(runId, { orWaiting: true });
      expect(waiting.status).toBe('waiting');
      expect(waiting.nodes.ask!.prompt).toContain('Which colour do you want?');
      const sendsBefore = agent.sends.length;
      expect(
        await l.engine.decideGate(runId, 'ask', { approved: true, by: 'ana', comment: 'blue', data: { script: 'answer' } }),
      ).toEqual({ ok: true });
      const rec = await l.engine.waitForRun(runId);
      expect(rec.status).toBe('succeeded');
      expect(rec.nodes.ask!.output).toMatchObject({ reply: 'blue' });
      expect(agent.sends.length).toBe(sendsBefore + 1);
      expect(agent.sends.at(-1)!.taskId).toBe(agent.sends.at(-2)!.taskId);
      expect(rec.costUsd).toBeCloseTo(0.005);
    } finally {
      await l.close();
    }
  });
});
