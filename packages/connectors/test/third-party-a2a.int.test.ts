/**
 * An A2A server nobody here wrote, not built on the official SDK: a VoltAgent 1.x app
 * (@voltagent/core, @voltagent/a2a-server — its own JSON-RPC implementation — behind
 * @voltagent/server-hono), installed from npm as pinned devDependencies and run offline on
 * loopback with the AI SDK's mock model (fixtures/voltagent-a2a.mjs). Registered by its agent
 * URL, called from workflows through createTrellis: its card (which names its own URL as the
 * endpoint), its SSE events (a record separator before each, no `kind` on results), its
 * text-only input (one text part read) and cancellation (`tasks/cancel` aborts its model call).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTrellis, type Trellis } from '../src/index.ts';

const fixture = fileURLToPath(new URL('./fixtures/voltagent-a2a.mjs', import.meta.url));
let dir: string;
let trellis: Trellis;
let child: ChildProcess;
let base: string;
let stdout = '';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function until(check: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function runAgent(message: string, input: object = {}) {
  const { id, version } = await trellis.saveWorkflow({
    name: `volt-${Math.random().toString(36).slice(2, 8)}`,
    nodes: [{ id: 'greet', type: 'agent_call', agent: 'volt', message, input: '$context' }],
    edges: [],
    output: { text: '$greet.text' },
  });
  return trellis.engine.startRun({ workflowId: id, version, input });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trellis-voltagent-'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  child = spawn(process.execPath, [fixture, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.resume();
  await until(() => stdout.includes('READY'), 60_000);
  trellis = await createTrellis({ db: join(dir, 't.db'), allowLoopback: true });
}, 90_000);

afterAll(async () => {
  await trellis?.close(0);
  child?.kill();
  rmSync(dir, { recursive: true, force: true });
});

describe('VoltAgent 1.x A2A server (not on the official SDK)', () => {
  it('registers by its agent URL; its card names itself as the endpoint, so the agent URL is used', async () => {
    const info = await trellis.connectors.agents.register({ url: `${base}/a2a/greeter`, name: 'volt', createdBy: 'tester' });
    expect(info.card.name).toBe('greeter');
    expect(info.card.supportedInterfaces.map((i) => i.url)).toEqual([`${base}/a2a/greeter`]);
    // By the card's own URL there is nothing to go on: refused, saying what to register instead.
    await expect(
      trellis.connectors.agents.register({ url: `${base}/.well-known/greeter/agent-card.json`, name: 'volt2', createdBy: 't' }),
    ).rejects.toThrow(
      /names its own URL as the address to send messages to .* Register the agent by the URL it takes messages at instead/,
    );
  });

  it('a workflow calls it: streamed events read, the input in its one text part', async () => {
    const { runId } = await runAgent('Hi', { city: 'Lisbon' });
    const run = await trellis.engine.waitForRun(runId);
    expect(run.status).toBe('succeeded');
    expect(run.output).toEqual({ text: 'Hello: Hi\n\n{"city":"Lisbon"}' });
  }, 60_000);

  it('cancelling the run sends tasks/cancel, which aborts its model call', async () => {
    const { runId } = await runAgent('slow, please');
    expect(stdout).not.toContain('ABORTED');
    // VoltAgent's model is mid-answer (its first event, with the task id, came straight away);
    // a cancel even earlier would be held up to the cancel grace to learn that id.
    await new Promise((r) => setTimeout(r, 1_500));
    await trellis.engine.cancelRun(runId, 'changed my mind');
    const run = await trellis.engine.waitForRun(runId);
    expect(run.status).toBe('cancelled');
    await until(() => stdout.includes('ABORTED'));
  }, 60_000);
});
