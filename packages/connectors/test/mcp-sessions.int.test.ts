/**
 * MCP sessions are scoped per run: a stateful server (official SDK, a server per session, like
 * git-mcp-server's working directory) keeps one run's state away from another run, concurrent
 * or later; sessions end with their run (DELETE for HTTP, the process for stdio) or after being
 * idle; `sessions: "shared"` is the explicit opt-in to one pooled session. Through the real
 * engine (createTrellis), on loopback and with real child processes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createOutboundGuard, LOOPBACK_ALLOW_HOSTS } from '@trellis/runtime';
import { openSqlite, type SqliteHandle } from '@trellis/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTrellis, ToolServerRegistry, type Trellis } from '../src/index.ts';
import { type StatefulHttpServer, startStatefulHttpServer } from './fixtures/stateful-mcp-http.ts';

const stdioFixture = fileURLToPath(new URL('./fixtures/stateful-mcp-stdio.ts', import.meta.url));
const admin = { name: 'root', isAdmin: true };
let dir: string;
let http: StatefulHttpServer;
let trellis: Trellis;

const setThenAsk = (server: string) => ({
  name: `set-then-ask-${server}`,
  nodes: [
    { id: 'set', type: 'tool_call', tool: `${server}/set_dir`, input: { dir: '$context.dir' } },
    { id: 'gate', type: 'human_gate', prompt: 'go on?' },
    { id: 'ask', type: 'tool_call', tool: `${server}/status`, input: {} },
  ],
  edges: [
    { from: 'set', to: 'gate' },
    { from: 'gate', to: 'ask' },
  ],
  output: { status: '$ask' },
});
const askOnly = (server: string) => ({
  name: `ask-${server}`,
  nodes: [{ id: 'ask', type: 'tool_call', tool: `${server}/status`, input: {} }],
  edges: [],
  output: { status: '$ask' },
});

async function run(def: object, input: object = {}) {
  const { id, version } = await trellis.saveWorkflow(def);
  return trellis.engine.startRun({ workflowId: id, version, input });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trellis-mcp-sessions-'));
  http = await startStatefulHttpServer();
  trellis = await createTrellis({ db: join(dir, 't.db'), allowLoopback: true });
  await trellis.connectors.tools.register({ name: 'git', url: http.url }, admin);
  await trellis.connectors.tools.register({ name: 'gitshared', url: http.url, sessions: 'shared' }, admin);
  await trellis.connectors.tools.register(
    { name: 'local', command: process.execPath, args: ['--import', 'tsx', stdioFixture] },
    admin,
  );
}, 60_000);
afterAll(async () => {
  await trellis?.close(0);
  await http?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('MCP sessions per run', () => {
  it("HTTP: run B never sees run A's state, concurrent or after; each run's session ends with a DELETE", async () => {
    // Registration's probe sessions (git, gitshared) were ended already.
    expect(http.open.size).toBe(0);
    const before = http.opened.length;
    const a = await run(setThenAsk('git'), { dir: '/repo/a' });
    await trellis.engine.waitForRun(a.runId, { orWaiting: true });
    expect(http.open.size).toBe(1); // run A's session, kept while A waits at its gate

    const b = await run(askOnly('git'));
    const runB = await trellis.engine.waitForRun(b.runId);
    expect(runB.status).toBe('failed');
    expect(JSON.stringify(runB.error)).toContain('No session working directory set');

    await trellis.engine.decideGate(a.runId, 'gate', { approved: true, by: 'ana' });
    const runA = await trellis.engine.waitForRun(a.runId);
    expect(runA.status).toBe('succeeded');
    expect((runA.output as { status: { dir: string } }).status.dir).toBe('/repo/a');

    // Both runs' sessions were ended by DELETE when they ended.
    await until(() => http.open.size === 0);
    expect(http.opened.length).toBe(before + 2); // A + B
    expect(new Set(http.deleted)).toEqual(new Set(http.opened));
    expect(trellis.connectors.tools.runsWithSessions).toEqual([]);

    // A later run starts from a clean session too.
    const c = await trellis.engine.waitForRun((await run(askOnly('git'))).runId);
    expect(c.status).toBe('failed');
  }, 60_000);

  it('sessions: "shared" is one pooled session for every run (the opt-in for stateless servers)', async () => {
    const a = await run(setThenAsk('gitshared'), { dir: '/repo/shared' });
    await trellis.engine.waitForRun(a.runId, { orWaiting: true });
    const b = await trellis.engine.waitForRun((await run(askOnly('gitshared'))).runId);
    expect(b.status).toBe('succeeded');
    expect((b.output as { status: { dir: string } }).status.dir).toBe('/repo/shared');
    await trellis.engine.decideGate(a.runId, 'gate', { approved: true, by: 'ana' });
    expect((await trellis.engine.waitForRun(a.runId)).status).toBe('succeeded');
    expect((await trellis.connectors.tools.get('gitshared'))?.sessions).toBe('shared');
    expect((await trellis.connectors.tools.get('git'))?.sessions).toBe('run');
  }, 60_000);

  it("stdio: a process per run; run B cannot see run A's state; the process stops when its run ends", async () => {
    const a = await run(setThenAsk('local'), { dir: '/tmp/a' });
    await trellis.engine.waitForRun(a.runId, { orWaiting: true });
    const b = await trellis.engine.waitForRun((await run(askOnly('local'))).runId);
    expect(b.status).toBe('failed');
    expect(JSON.stringify(b.error)).toContain('No session working directory set');
    await trellis.engine.decideGate(a.runId, 'gate', { approved: true, by: 'ana' });
    const runA = await trellis.engine.waitForRun(a.runId);
    expect(runA.status).toBe('succeeded');
    const pid = (runA.output as { status: { pid: number } }).status.pid;
    await until(() => !alive(pid));
  }, 60_000);

  it('a run session unused for sessionIdleMs is closed (DELETE) even though the run goes on', async () => {
    const store: SqliteHandle = await openSqlite(join(dir, 'idle.db'));
    const guard = createOutboundGuard({ allowHosts: LOOPBACK_ALLOW_HOSTS });
    const registry = new ToolServerRegistry({ db: store.db, fetch: guard.fetch, checkUrl: guard.checkUrl, sessionIdleMs: 50 });
    try {
      const server = await registry.register({ name: 'idle', url: http.url }, admin);
      const record = { ...server, env: {}, cwd: null };
      const deletedBefore = http.deleted.length;
      await registry.withClient(record, (c) => c.callTool({ name: 'set_dir', arguments: { dir: '/x' } }), { runId: 'run_1' });
      expect(registry.pool.keys()).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 80));
      let watching = 0;
      registry.onRunSession = () => {
        watching++;
        return () => watching--;
      };
      await registry.withClient(record, (c) => c.callTool({ name: 'set_dir', arguments: { dir: '/y' } }), { runId: 'run_2' });
      expect(watching).toBe(1);
      await new Promise((r) => setTimeout(r, 80));
      await registry.pool.sweepIdle();
      expect(registry.pool.keys()).toHaveLength(0);
      // Nothing is left of the runs: their ends are no longer watched.
      expect(registry.runsWithSessions).toEqual([]);
      expect(watching).toBe(0);
      expect(http.deleted.length).toBe(deletedBefore + 2);
    } finally {
      await registry.close();
      await store.close();
      await guard.close();
    }
  });
});
