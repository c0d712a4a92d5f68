/**
 * A replay that fails reaches the subscriber: when a run's stored events cannot be read, the
 * WebSocket sends an `error` message (code REPLAY_FAILED, resumeAfter) and closes with 1011, the
 * SSE stream ends with an `event: close` frame carrying the code, and the runtime's subscribe API
 * calls `onError` — none of them silently switches to live events. The failure is real: the
 * events table of the real SQLite database is renamed away for the duration.
 */
import type { ErrorInfo, RunEvent } from '@trellis/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { gateWorkflow, json, startTestServer, type TestServer } from './helpers.ts';

let t: TestServer;
let base: string;
let wf: string;

beforeAll(async () => {
  t = await startTestServer();
  base = await t.server.app.listen({ port: 0, host: '127.0.0.1' });
  wf = json(await t.request('POST', '/api/v1/workflows', { body: gateWorkflow('replayed') })).id;
});
afterAll(async () => {
  await t.close();
});

async function waitingRun(): Promise<string> {
  const { id } = json(await t.request('POST', `/api/v1/workflows/${wf}/run`, { body: {} }));
  await t.engine.waitForRun(id, { orWaiting: true });
  return id;
}

/** Runs `fn` while the events table cannot be read. */
async function withEventsUnreadable<T>(fn: () => Promise<T>): Promise<T> {
  t.handle.raw.exec('alter table events rename to events_away');
  try {
    return await fn();
  } finally {
    t.handle.raw.exec('alter table events_away rename to events');
  }
}

function watchWs(runId: string, after = 0) {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/api/v1/ws/workflow_runs/${runId}?after=${after}`, {
    headers: { authorization: `Bearer ${t.tokens.alice}` },
  });
  const messages: { kind: string; error?: ErrorInfo; resumeAfter?: number; event?: RunEvent }[] = [];
  ws.on('message', (d) => messages.push(JSON.parse(String(d))));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })),
  );
  return { ws, messages, closed };
}

describe('a replay failure reaches the subscriber', () => {
  it('WebSocket: an error message with REPLAY_FAILED and resumeAfter, then close 1011; reconnecting resumes', async () => {
    const run = await waitingRun();
    const { messages, closed } = await withEventsUnreadable(async () => {
      const w = watchWs(run);
      await w.closed;
      return w;
    });
    const { code, reason } = await closed;
    expect(code).toBe(1011);
    expect(reason).toBe('REPLAY_FAILED');
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ kind: 'error', error: { code: 'REPLAY_FAILED', retryable: true }, resumeAfter: 0 });
    expect(messages[0]!.error!.message).toContain('after=0');
    expect(messages[0]!.error!.message).not.toContain('events_away'); // no internals
    // With the log readable again, a reconnect with resumeAfter gets everything.
    const again = watchWs(run, messages[0]!.resumeAfter!);
    for (let i = 0; i < 250 && !again.messages.some((m) => m.event?.type === 'node.waiting'); i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(again.messages[0]).toMatchObject({ kind: 'event', event: { seq: 1 } });
    again.ws.close();
  });

  it('SSE: the stream ends with an `event: close` frame carrying REPLAY_FAILED and resumeAfter', async () => {
    const run = await waitingRun();
    const res = await withEventsUnreadable(() =>
      t.request('GET', `/api/v1/workflow_runs/${run}/events?after=0`, { headers: { accept: 'text/event-stream' } }),
    );
    expect(res.statusCode).toBe(200);
    const frames = res.payload.split('\n\n').filter((f) => f.startsWith('event:'));
    expect(frames).toHaveLength(1);
    const [head, data] = frames[0]!.split('\n');
    expect(head).toBe('event: close');
    expect(JSON.parse(data!.slice('data: '.length))).toMatchObject({ code: 'REPLAY_FAILED', resumeAfter: 0 });
  });

  it('the runtime subscribe API: onError with REPLAY_FAILED, no event, no end', async () => {
    const run = await waitingRun();
    const got = await withEventsUnreadable(async () => {
      const events: RunEvent[] = [];
      let ended = false;
      const error = await new Promise<ErrorInfo>((resolve) => {
        t.engine.subscribe(run, { after: 2, onEvent: (e) => events.push(e), onEnd: () => (ended = true), onError: resolve });
      });
      return { events, ended, error };
    });
    expect(got.error).toMatchObject({ code: 'REPLAY_FAILED', retryable: true, details: { resumeAfter: 2 } });
    expect(got.events).toEqual([]);
    expect(got.ended).toBe(false);
  });
});
