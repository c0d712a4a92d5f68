/**
 * The run stream over a real WebSocket server on loopback: a dropped connection resumes with
 * `after=<last seq>`, events the server replays again are not delivered twice, and the
 * stream ends after the terminal event.
 */
import type { AddressInfo } from 'node:net';
import type { RunEvent } from '@trellis/core';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { eventsOfMessage, RunStream, type SocketLike } from '../src/api/run-stream.ts';

const events: RunEvent[] = Array.from({ length: 8 }, (_, i) => ({
  seq: i + 1,
  runId: 'r1',
  type: i === 7 ? 'run.succeeded' : 'node.queued',
  nodeId: i === 7 ? undefined : `n${i}`,
  at: new Date(0).toISOString(),
  data: i === 7 ? { output: null } : {},
})) as RunEvent[];

let wss: WebSocketServer | undefined;
afterEach(async () => {
  await new Promise<void>((r) => (wss ? wss.close(() => r()) : r()));
  wss = undefined;
});

function listen(onConnection: (ws: WebSocket, after: number, n: number) => void): Promise<string> {
  let n = 0;
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('connection', (ws, req) => {
    const after = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('after'));
    onConnection(ws, after, n++);
  });
  return new Promise((resolve) =>
    wss!.on('listening', () => resolve(`ws://127.0.0.1:${(wss!.address() as AddressInfo).port}/ws`)),
  );
}

function collect(url: string): Promise<{ seqs: number[]; afters: number[] }> {
  const seqs: number[] = [];
  const afters: number[] = [];
  return new Promise((resolve) => {
    const stream = new RunStream({
      url: (after) => {
        afters.push(after);
        return `${url}?after=${after}`;
      },
      socket: (u) => new WebSocket(u) as unknown as SocketLike,
      backoffMs: [10],
      onEvent: (e) => seqs.push(e.seq),
      onState: (s) => {
        if (s === 'ended') resolve({ seqs, afters });
      },
    });
    stream.start();
  });
}

describe('RunStream', () => {
  it('resumes after a dropped connection without losing or repeating events', async () => {
    const url = await listen((ws, after, n) => {
      // First connection: 3 events then the connection drops. Second: replays from 2 (an
      // overlap the client must drop), then 2 more and drops. Third: the rest.
      const from = n === 1 ? 1 : after;
      const upTo = n === 0 ? 3 : n === 1 ? 5 : 8;
      for (const e of events.slice(from, upTo)) ws.send(JSON.stringify({ kind: 'event', event: e }));
      if (n < 2) setTimeout(() => ws.terminate(), 20);
      else ws.send(JSON.stringify({ kind: 'end', status: 'succeeded', lastSeq: 8 }));
    });
    const { seqs, afters } = await collect(url);
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(afters).toEqual([0, 3, 5]);
  });

  it('reconnects from the last delivered seq when it sees a gap, rather than deliver out of order', async () => {
    const url = await listen((ws, after, n) => {
      if (n === 0) {
        ws.send(JSON.stringify({ kind: 'event', event: events[0] }));
        ws.send(JSON.stringify({ kind: 'event', event: events[2] })); // seq 3 without seq 2
        return;
      }
      for (const e of events.slice(after)) ws.send(JSON.stringify({ kind: 'event', event: e }));
    });
    const { seqs, afters } = await collect(url);
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(afters).toEqual([0, 1]);
  });

  it('falls back to reading events over HTTP when the socket keeps failing', async () => {
    // A loopback port nobody listens on: every connection is refused, for real.
    const probe = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => probe.on('listening', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const polled: number[] = [];
    const seqs: number[] = [];
    await new Promise<void>((resolve) => {
      const stream = new RunStream({
        url: (after) => `ws://127.0.0.1:${port}/ws?after=${after}`,
        socket: (u) => new WebSocket(u) as unknown as SocketLike,
        backoffMs: [5],
        pollAfterFailures: 2,
        poll: async (after) => {
          polled.push(after);
          return events.slice(after, after + 3);
        },
        onEvent: (e) => seqs.push(e.seq),
        onState: (st) => st === 'ended' && resolve(),
      });
      stream.start();
    });
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(polled).toEqual([0, 3, 6]);
  });

  it('reads the messages of the API schema and refuses anything else', () => {
    const e = events[0]!;
    expect(eventsOfMessage(JSON.stringify({ kind: 'event', event: e }))).toEqual([e]);
    expect(eventsOfMessage(JSON.stringify({ kind: 'end', status: 'succeeded', lastSeq: 1 }))).toEqual([]);
    expect(() => eventsOfMessage(JSON.stringify(e))).toThrow(/unexpected message/);
    expect(() => eventsOfMessage(JSON.stringify([e, e]))).toThrow(/unexpected message/);
    expect(() => eventsOfMessage('not json')).toThrow(/not JSON/);
  });
});
