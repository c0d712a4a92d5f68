/**
 * MCP servers nobody here wrote, installed from npm (devDependencies of @trellis/connectors,
 * pinned in package-lock.json), run offline on loopback through the real engine:
 * - `@modelcontextprotocol/server-filesystem` over stdio: structured output; a 12 MiB file read
 *   fails that call alone with OUTPUT_TOO_LARGE while the process and a call in flight survive;
 * - `@modelcontextprotocol/server-memory` over stdio: its `MEMORY_FILE_PATH` given by the
 *   registration's `env`;
 * - `@cyanheads/git-mcp-server` over Streamable HTTP: a stateful server (a working directory per
 *   session) — run B never sees the directory run A set.
 * docs/compatibility.md says what a user can expect from each; these tests keep it true.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTrellis, type Trellis } from '../src/index.ts';

// The packages are hoisted to the repository's node_modules (their `exports` hide package.json).
const root = fileURLToPath(new URL('../../../', import.meta.url));
const binOf = (pkg: string) => join(root, 'node_modules', pkg, 'dist', 'index.js');
const FILESYSTEM = binOf('@modelcontextprotocol/server-filesystem');
const MEMORY = binOf('@modelcontextprotocol/server-memory');
const GIT = binOf('@cyanheads/git-mcp-server');
const admin = { name: 'root', isAdmin: true };

let dir: string;
let trellis: Trellis;
let git: ChildProcess | undefined;
let gitUrl: string;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function waitForHttp(url: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const res = await fetch(url, { method: 'GET', headers: { accept: 'text/event-stream' } });
      await res.body?.cancel();
      return;
    } catch {
      if (Date.now() > end) throw new Error(`${url} did not come up`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function runOf(def: object, input: object = {}) {
  const { id, version } = await trellis.saveWorkflow(def);
  return trellis.engine.startRun({ workflowId: id, version, input });
}

beforeAll(async () => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'trellis-3p-')));
  mkdirSync(join(dir, 'files'));
  writeFileSync(join(dir, 'files', 'small.txt'), 'hello from a file\n');
  writeFileSync(join(dir, 'files', 'big.txt'), 'a'.repeat(12 * 1024 * 1024));
  for (const r of ['repo-a', 'repo-b']) {
    mkdirSync(join(dir, r));
    execFileSync('git', ['init', '-q', join(dir, r)]);
    writeFileSync(join(dir, r, `only-in-${r}.txt`), r);
  }
  const port = await freePort();
  git = spawn(process.execPath, [GIT], {
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      MCP_TRANSPORT_TYPE: 'http',
      MCP_HTTP_HOST: '127.0.0.1',
      MCP_HTTP_PORT: String(port),
      MCP_LOG_LEVEL: 'error',
    },
    // Not a repository: a call that falls back to the process's directory fails.
    cwd: dir,
    stdio: 'ignore',
  });
  gitUrl = `http://127.0.0.1:${port}/mcp`;
  trellis = await createTrellis({ db: join(dir, 't.db'), allowLoopback: true });
  const tools = trellis.connectors.tools;
  // The filesystem server keeps no state between calls: one shared process is fine.
  await tools.register(
    { name: 'fs', command: process.execPath, args: [FILESYSTEM, join(dir, 'files')], sessions: 'shared' },
    admin,
  );
  await tools.register(
    { name: 'memory', command: process.execPath, args: [MEMORY], env: { MEMORY_FILE_PATH: join(dir, 'memory.jsonl') } },
    admin,
  );
  await waitForHttp(gitUrl);
  await tools.register({ name: 'git', url: gitUrl }, admin);
}, 120_000);

afterAll(async () => {
  await trellis?.close(0);
  git?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

describe('@modelcontextprotocol/server-filesystem (stdio)', () => {
  it('reads a file through a workflow, with its structured output', async () => {
    const { runId } = await runOf(
      {
        name: 'read-small',
        nodes: [{ id: 'read', type: 'tool_call', tool: 'fs/read_text_file', input: { path: '$context.path' } }],
        edges: [],
        output: { content: '$read.content' },
      },
      { path: join(dir, 'files', 'small.txt') },
    );
    const run = await trellis.engine.waitForRun(runId);
    expect(run.status).toBe('succeeded');
    expect(run.output).toEqual({ content: 'hello from a file\n' });
  }, 60_000);

  it('a 12 MiB read fails that call alone with OUTPUT_TOO_LARGE; the process and a call in flight carry on', async () => {
    const tools = trellis.connectors.tools;
    const server = (await tools.findTool('fs/read_text_file'))?.server;
    if (!server) throw new Error('fs is not registered');
    const pid = () => tools.withClient(server, async (c) => (c.transport as unknown as { pid: number }).pid);
    const before = await pid();
    const { runId } = await runOf({
      name: 'read-both',
      nodes: [
        { id: 'start', type: 'parallel' },
        {
          id: 'big',
          type: 'tool_call',
          tool: 'fs/read_text_file',
          input: { path: join(dir, 'files', 'big.txt') },
          retry: { maxAttempts: 3 },
          onError: 'continue',
        },
        { id: 'tree', type: 'tool_call', tool: 'fs/directory_tree', input: { path: join(dir, 'files') } },
        { id: 'end', type: 'join' },
      ],
      edges: [
        { from: 'start', to: 'big' },
        { from: 'start', to: 'tree' },
        { from: 'big', to: 'end' },
        { from: 'tree', to: 'end' },
      ],
      output: { big: '$big', tree: '$tree' },
    });
    const run = await trellis.engine.waitForRun(runId);
    expect(run.status).toBe('succeeded');
    const out = run.output as { big: { error: { code: string; message: string } }; tree: unknown };
    expect(out.big.error.code).toBe('OUTPUT_TOO_LARGE');
    expect(out.big.error.message).toMatch(/over the 10485760-byte limit/);
    // Not retried: the same file gives the same size.
    expect(run.nodes.big?.attempts).toHaveLength(1);
    expect(JSON.stringify(out.tree)).toContain('small.txt');
    expect(await pid()).toBe(before);
  }, 120_000);
});

describe('@modelcontextprotocol/server-memory (stdio, env from the registration)', () => {
  it('stores its graph where MEMORY_FILE_PATH (registration env) says', async () => {
    const { runId } = await runOf({
      name: 'remember',
      nodes: [
        {
          id: 'add',
          type: 'tool_call',
          tool: 'memory/create_entities',
          input: { entities: [{ name: 'Trellis', entityType: 'project', observations: ['runs workflows'] }] },
        },
        { id: 'read', type: 'tool_call', tool: 'memory/read_graph', input: {} },
      ],
      edges: [{ from: 'add', to: 'read' }],
      output: { graph: '$read' },
    });
    const run = await trellis.engine.waitForRun(runId);
    expect(run.status).toBe('succeeded');
    expect(JSON.stringify(run.output)).toContain('runs workflows');
    expect(existsSync(join(dir, 'memory.jsonl'))).toBe(true);
    expect(readFileSync(join(dir, 'memory.jsonl'), 'utf8')).toContain('Trellis');
    expect((await trellis.connectors.tools.get('memory'))?.env).toEqual({ MEMORY_FILE_PATH: '[hidden]' });
  }, 60_000);
});

describe('@cyanheads/git-mcp-server (Streamable HTTP, stateful)', () => {
  const setThenStatus = {
    name: 'git-a',
    nodes: [
      { id: 'cd', type: 'tool_call', tool: 'git/git_set_working_dir', input: { path: '$context.repo' } },
      { id: 'gate', type: 'human_gate', prompt: 'go on?' },
      { id: 'status', type: 'tool_call', tool: 'git/git_status', input: {} },
    ],
    edges: [
      { from: 'cd', to: 'gate' },
      { from: 'gate', to: 'status' },
    ],
    output: { status: '$status' },
  };
  const statusOnly = {
    name: 'git-b',
    nodes: [{ id: 'status', type: 'tool_call', tool: 'git/git_status', input: {} }],
    edges: [],
  };

  const statusOf = (repo: string) => ({
    name: `git-${repo}`,
    nodes: [{ id: 'status', type: 'tool_call', tool: 'git/git_status', input: { path: join(dir, repo) } }],
    edges: [],
    output: { status: '$status' },
  });

  it('works per run; its "session" working directory is per tenant, not per MCP session: pass `path`', async () => {
    // Before anyone sets it: refused, as the server says.
    const first = await trellis.engine.waitForRun((await runOf(statusOnly)).runId);
    expect(first.status).toBe('failed');
    expect(JSON.stringify(first.error)).toContain('No session working directory set');

    const a = await runOf(setThenStatus, { repo: join(dir, 'repo-a') });
    expect((await trellis.engine.waitForRun(a.runId, { orWaiting: true })).status).toBe('waiting');
    // Run B has its own MCP session, yet sees A's directory: git-mcp-server 2.15 keys it by
    // tenant ("default-tenant" without auth), not by session (docs/compatibility.md).
    const b = await trellis.engine.waitForRun((await runOf(statusOnly)).runId);
    expect(b.status).toBe('succeeded');
    expect(JSON.stringify(b.nodes.status?.output)).toContain('only-in-repo-a.txt');
    // The workaround: name the repository on every call.
    const c = await trellis.engine.waitForRun((await runOf(statusOf('repo-b'))).runId);
    expect(c.status).toBe('succeeded');
    expect(JSON.stringify(c.output)).toContain('only-in-repo-b.txt');
    expect(JSON.stringify(c.output)).not.toContain('only-in-repo-a.txt');

    await trellis.engine.decideGate(a.runId, 'gate', { approved: true, by: 'ana' });
    const runA = await trellis.engine.waitForRun(a.runId);
    expect(runA.status).toBe('succeeded');
    expect(JSON.stringify(runA.output)).toContain('only-in-repo-a.txt');
  }, 120_000);
});
