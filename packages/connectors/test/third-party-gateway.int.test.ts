/**
 * supergateway 4.0 (from npm, pinned) in front of a stdio MCP server, as people put one on the
 * network: `--stdio "<command>" --outputTransport streamableHttp --stateful`, which starts one
 * child process per MCP session. Trellis registers it as a Streamable HTTP server and, with its
 * session per run, each run gets its own child: one run's state is not another's, and the
 * child stops when its run ends (Trellis's DELETE ends the session). The child is the official
 * SDK's stateful fixture; everything on loopback.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTrellis, type Trellis } from '../src/index.ts';

const require = createRequire(import.meta.url);
const gateway = join(require.resolve('supergateway/package.json'), '..', 'dist', 'index.js');
const fixture = fileURLToPath(new URL('./fixtures/stateful-mcp-stdio.ts', import.meta.url));
const tsx = pathToFileURL(require.resolve('tsx')).href;
const admin = { name: 'root', isAdmin: true };
let dir: string;
let trellis: Trellis;
let child: ChildProcess;
let url: string;

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

async function until(check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function run(nodes: object[], edges: object[] = []) {
  const { id, version } = await trellis.saveWorkflow({
    name: `gw-${Math.random().toString(36).slice(2, 8)}`,
    nodes,
    edges,
    output: { status: '$status' },
  });
  const { runId } = await trellis.engine.startRun({ workflowId: id, version, input: {} });
  return trellis.engine.waitForRun(runId);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trellis-gateway-'));
  const port = await freePort();
  url = `http://127.0.0.1:${port}/mcp`;
  child = spawn(
    process.execPath,
    [
      gateway,
      '--stdio',
      `"${process.execPath}" --import ${tsx} "${fixture}"`,
      '--outputTransport',
      'streamableHttp',
      '--stateful',
      '--port',
      String(port),
      '--healthEndpoint',
      '/healthz',
      '--logLevel',
      'none',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr?.resume();
  await until(() =>
    fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    ),
  );
  trellis = await createTrellis({ db: join(dir, 't.db'), allowLoopback: true });
}, 90_000);

afterAll(async () => {
  await trellis?.close(0);
  child?.kill();
  rmSync(dir, { recursive: true, force: true });
});

describe('supergateway (stdio → Streamable HTTP, stateful)', () => {
  it('registers; each run gets its own child process, stopped when the run ends', async () => {
    const info = await trellis.connectors.tools.register({ name: 'gw', url }, admin);
    expect(info.tools.map((t) => t.name)).toEqual(expect.arrayContaining(['set_dir', 'status']));

    const a = await run(
      [
        { id: 'set', type: 'tool_call', tool: 'gw/set_dir', input: { dir: '/srv/repo-a' } },
        { id: 'status', type: 'tool_call', tool: 'gw/status', input: {} },
      ],
      [{ from: 'set', to: 'status' }],
    );
    expect(a.status).toBe('succeeded');
    const { dir: seen, pid } = (a.output as { status: { dir: string; pid: number } }).status;
    expect(seen).toBe('/srv/repo-a');
    // Run A's session ended with its run (DELETE): supergateway stopped its child.
    await until(() => !alive(pid));

    // Run B has a session (a child) of its own: A's directory is not there.
    const b = await run([{ id: 'status', type: 'tool_call', tool: 'gw/status', input: {} }]);
    expect(b.status).toBe('failed');
    expect(JSON.stringify(b)).toContain('No session working directory set');
  }, 120_000);
});
