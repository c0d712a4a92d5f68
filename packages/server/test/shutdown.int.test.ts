/**
 * Graceful shutdown: live streams are closed with 1001 and a reason, the running attempt gets
 * its grace period, and the next start finishes the run with nothing lost.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunRecord } from '@trellis/core';
import { createExecutorResolver } from '@trellis/runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTrellisServer } from '../src/index.ts';
import { EXAMPLE_OPTIONS } from './examples.ts';
import { echoTool } from './helpers.ts';

const ADMIN = 'shutdown-admin-token-0123456789';

interface Outcome {
  streamClose: { code: number; reason: string };
  slowCallsAtShutdown: number;
  slowCalls: number;
  afterCalls: number;
  final: RunRecord;
}

/** Starts a two-step run, shuts the server down while step 1 runs (600 ms, grace 5 s), restarts. */
async function scenario(): Promise<Outcome> {
  const db = join(mkdtempSync(join(tmpdir(), 'trellis-shutdown-')), 'trellis.db');
  const slow = echoTool();
  const after = echoTool();
  const options = {
    db,
    host: '127.0.0.1',
    port: 0,
    ...EXAMPLE_OPTIONS,
    demo: false,
    adminToken: ADMIN,
    consoleDir: false as const,
    executors: () => createExecutorResolver({ tools: { 'test.slow': slow, 'test.after': after } }),
  };
  const first = await startTrellisServer({ ...options, graceMs: 5000 });
  const headers = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
  const wf = await (
    await fetch(`${first.url}/api/v1/workflows`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        name: 'two-steps',
        nodes: [
          { id: 'slow', type: 'tool_call', tool: 'test.slow', input: { delayMs: 600 } },
          { id: 'after', type: 'tool_call', tool: 'test.after', input: { x: '$slow.delayMs' } },
        ],
        edges: [{ from: 'slow', to: 'after' }],
      }),
    })
  ).json();
  const run = await (await fetch(`${first.url}/api/v1/workflows/${wf.id}/run`, { method: 'POST', headers, body: '{}' })).json();
  const ws = new WebSocket(`${first.url.replace('http', 'ws')}/api/v1/ws/workflow_runs/${run.id}`, { headers });
  const closed = new Promise<{ code: number; reason: string }>((r) =>
    ws.on('close', (code, reason) => r({ code, reason: String(reason) })),
  );
  await new Promise<void>((resolve) =>
    ws.on('message', (d) => {
      if (JSON.parse(String(d)).event?.type === 'node.started') resolve();
    }),
  );
  await first.close();
  const streamClose = await closed;
  const slowCallsAtShutdown = slow.calls;
  const second = await startTrellisServer({ ...options, graceMs: 0 });
  try {
    const final = await second.engine.waitForRun(run.id);
    return { streamClose, slowCallsAtShutdown, slowCalls: slow.calls, afterCalls: after.calls, final };
  } finally {
    await second.close(0);
  }
}

describe('graceful shutdown', () => {
  let o: Outcome;
  beforeAll(async () => {
    o = await scenario();
  }, 30_000);

  it('closes live streams with 1001 and a reason to resume', () => {
    expect(o.streamClose).toMatchObject({ code: 1001, reason: expect.stringMatching(/shutting down.*after=/) });
  });

  it('loses nothing: the next start completes the run, downstream work runs once', () => {
    expect(o.slowCallsAtShutdown).toBe(1);
    expect(o.final.status).toBe('succeeded');
    expect(o.afterCalls).toBe(1);
  });

  // An attempt that succeeds within the grace period is committed, not re-run after the restart.
  it('keeps the result of an attempt that finishes within the grace period', () => {
    expect(o.slowCalls).toBe(1);
    expect(o.final.nodes.slow?.attempts).toHaveLength(1);
  });
});
