/**
 * Overhead of calling a workflow as a peer (issue 17): a one-node workflow called, in the same
 * sitting and interleaved round by round,
 *  - through `POST /mcp` (`tools/call` with the official MCP client, one session),
 *  - through A2A `message/send` (the official @a2a-js/sdk client, JSON-RPC, blocking), and
 *  - through the REST API: `POST /workflows/:id/run`, then `GET /workflow_runs/:id` as soon as
 *    the run has finished (the wait itself happens server-side, as it does for MCP and A2A),
 * each answered with the run's output. Prints p50 / p95 per path and what MCP and A2A add at
 * p50 over REST (target ≤ 2 ms); writes bench/results/peers.json.
 *
 *   npx tsx bench/peers.ts [--quick]
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Role, TaskState } from '@a2a-js/sdk';
import { ClientFactory, ClientFactoryOptions, DefaultAgentCardResolver, JsonRpcTransportFactory } from '@a2a-js/sdk/client';
import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createHostExecutors } from '@trellis/connectors';
import { createEngine } from '@trellis/runtime';
import { buildServer } from '@trellis/server';
import { ensureAdmin, openSqlite, SqliteRunStore } from '@trellis/store';
import { machineLoad, printTable, writeResults } from './lib/report.ts';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 60 : 300;
const WARMUP = 20;
const TOKEN = 'bench-peers-token-0123456789abcdef';

const handle = await openSqlite(join(mkdtempSync(join(tmpdir(), 'trellis-bench-peers-')), 'db.sqlite'));
const host = createHostExecutors({ db: handle.db, allowLoopback: true });
const engine = createEngine({ store: new SqliteRunStore(handle), executors: host.resolver, pollMs: 50 });
await engine.whenReady();
const server = await buildServer({
  store: handle,
  engine,
  connectors: host.connectors,
  consoleDir: false,
  limits: { requestsPerMinute: 100_000_000 },
});
await ensureAdmin(handle.db, TOKEN);
const url = (await server.app.listen({ host: '127.0.0.1', port: 0 })).replace('[::1]', '127.0.0.1');
const auth = { authorization: `Bearer ${TOKEN}` };

const created = await fetch(`${url}/api/v1/workflows`, {
  method: 'POST',
  headers: { ...auth, 'content-type': 'application/json' },
  body: JSON.stringify({
    name: 'double',
    inputSchema: { type: 'object', properties: { n: { type: 'number' } } },
    nodes: [{ id: 'double', type: 'transform', expression: "{ 'doubled': $context.n * 2 }" }],
    output: { doubled: '$double.doubled' },
  }),
});
const { id } = (await created.json()) as { id: string };

// MCP: one session, a tools/call per sample.
const mcp = new McpClient({ name: 'bench', version: '1.0.0' });
await mcp.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: auth } }));
const toolName = (await mcp.listTools()).tools.find((t) => t.name === 'double')?.name;
if (!toolName) throw new Error('the workflow is not an MCP tool');

// A2A: the SDK client from the workflow's card.
const authed: typeof fetch = (input, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set('authorization', auth.authorization);
  return fetch(input, { ...init, headers });
};
const a2a = await new ClientFactory(
  ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
    cardResolver: new DefaultAgentCardResolver({ fetchImpl: authed }),
    transports: [new JsonRpcTransportFactory({ fetchImpl: authed })],
  }),
).createFromUrl(`${url}/a2a/workflows/${id}/.well-known/agent-card.json`, '');

async function viaMcp(n: number): Promise<void> {
  const r = await mcp.callTool({ name: toolName as string, arguments: { n } });
  if ((r.structuredContent as { doubled?: number } | undefined)?.doubled !== n * 2) throw new Error(`mcp: ${JSON.stringify(r)}`);
}

async function viaA2a(n: number): Promise<void> {
  const r = await a2a.sendMessage({
    tenant: '',
    message: {
      messageId: randomUUID(),
      role: Role.ROLE_USER,
      parts: [{ content: { $case: 'data', value: { n } }, metadata: undefined, filename: '', mediaType: 'application/json' }],
      taskId: '',
      contextId: '',
      extensions: [],
      metadata: {},
      referenceTaskIds: [],
    },
    configuration: undefined,
    metadata: {},
  });
  const task = r as { status?: { state?: number } };
  if (task.status?.state !== TaskState.TASK_STATE_COMPLETED) throw new Error(`a2a: ${JSON.stringify(r)}`);
}

async function viaRest(n: number): Promise<void> {
  const res = await fetch(`${url}/api/v1/workflows/${id}/run`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ input: { n } }),
  });
  const { id: runId } = (await res.json()) as { id: string };
  await engine.waitForRun(runId);
  const rec = (await (await fetch(`${url}/api/v1/workflow_runs/${runId}`, { headers: auth })).json()) as {
    output?: { doubled?: number };
  };
  if (rec.output?.doubled !== n * 2) throw new Error(`rest: ${JSON.stringify(rec)}`);
}

const paths = { rest: viaRest, mcp: viaMcp, a2a: viaA2a } as const;
const samples: Record<keyof typeof paths, number[]> = { rest: [], mcp: [], a2a: [] };
for (let round = 0; round < WARMUP + ROUNDS; round++) {
  // Interleaved, and the order rotates, so a busy moment of the machine hits every path alike.
  const order = (Object.keys(paths) as (keyof typeof paths)[]).map((_, i, all) => all[(i + round) % all.length]!);
  for (const p of order) {
    const t = performance.now();
    await paths[p](round);
    if (round >= WARMUP) samples[p].push(performance.now() - t);
  }
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? 0;
const restP50 = pct(samples.rest, 50);
const rows = (Object.keys(samples) as (keyof typeof samples)[]).map((p) => ({
  path: p === 'rest' ? 'POST /workflows/:id/run + result' : p === 'mcp' ? 'MCP tools/call (/mcp)' : 'A2A message/send',
  calls: samples[p].length,
  p50Ms: pct(samples[p], 50),
  p95Ms: pct(samples[p], 95),
  addedAtP50Ms: p === 'rest' ? 0 : pct(samples[p], 50) - restP50,
}));
printTable(`Calling a one-node workflow: ${ROUNDS} calls per path, interleaved (target: ≤ 2 ms added at p50)`, rows);
const load = machineLoad();
process.stdout.write(`${load}\n`);
writeResults('peers', { rounds: ROUNDS, rows, load });

await mcp.close();
await server.app.close();
await engine.shutdown(0);
await host.close();
await handle.close();
