/**
 * A run's events over a WebSocket. Messages are the closed union `SocketMessage`: `event`
 * (one committed event), then `end` after the terminal event, and the server closes with 1000.
 * Slow consumers: when the socket's unsent bytes pass the limit, the server closes with 4008
 * and a reason; the client reconnects with `after=<last seq it received>` and misses nothing.
 */
import type { WebSocket } from '@fastify/websocket';
import { isTerminalRunStatus, type RunEvent } from '@trellis/core';
import type { Subscription } from '@trellis/runtime';
import type { ServerContext } from '../http/context.ts';
import type { SocketMessage } from '../schemas/runs.ts';
import { engineOf } from './engine.ts';

/** Close codes this server uses (4000–4999 is the application range). */
export const WS_CLOSE = {
  /** The run finished and every event was sent. */
  done: 1000,
  /** The server is shutting down; reconnect later with `after`. */
  goingAway: 1001,
  /** The client fell too far behind; reconnect with `after`. */
  slowConsumer: 4008,
} as const;

export function streamWebSocket(ctx: ServerContext, socket: WebSocket, runId: string, after: number, release: () => void): void {
  const engine = engineOf(ctx);
  let closed = false;
  let lastSeq = after;
  const send = (m: SocketMessage | string) => {
    if (closed || socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > ctx.limits.socketHighWaterBytes) {
      ctx.metrics.streamsDroppedSlow++;
      close(WS_CLOSE.slowConsumer, `slow consumer: reconnect with after=${lastSeq}`);
      return;
    }
    socket.send(typeof m === 'string' ? m : JSON.stringify(m));
  };
  const close = (code: number, reason: string) => {
    if (closed) return;
    closed = true;
    sub?.close();
    ctx.streams.delete(onShutdown);
    ctx.metrics.openStreams--;
    release();
    if (socket.readyState === socket.OPEN) socket.close(code, reason.slice(0, 120));
  };
  const onShutdown = (reason: string) => close(WS_CLOSE.goingAway, reason);
  ctx.streams.add(onShutdown);
  ctx.metrics.openStreams++;
  let sub: Subscription | undefined;
  const subscribe = () => {
    sub = engine.subscribe(runId, {
      after,
      onEvent: (event: RunEvent) => {
        ctx.metrics.observeEventLag(event.at);
        send(eventMessage(event));
        // lastSeq is what the client has been handed; a slow consumer resumes from its own last.
        lastSeq = event.seq;
      },
      onEnd: () => {
        engine.getRun(runId).then(
          (run) => {
            if (run) send({ kind: 'end', status: run.status, lastSeq });
            close(WS_CLOSE.done, 'run finished');
          },
          () => close(WS_CLOSE.done, 'run finished'),
        );
      },
    });
    if (closed) sub.close();
  };
  // A client resuming after the terminal event has nothing left to receive: the engine would
  // never call onEnd for it, so answer `end` at once.
  engine.getRun(runId).then(
    (run) => {
      if (closed) return;
      if (run && isTerminalRunStatus(run.status) && after >= run.lastSeq) {
        send({ kind: 'end', status: run.status, lastSeq: run.lastSeq });
        close(WS_CLOSE.done, 'run finished');
      } else subscribe();
    },
    () => close(1011, 'internal error'),
  );
  socket.on('close', () => close(WS_CLOSE.done, 'client closed'));
  // Clients have nothing to say; a message is ignored rather than treated as an error.
  socket.on('message', () => undefined);
}

const serialized = new WeakMap<RunEvent, string>();

/**
 * The `event` message, serialised once per event object: the engine hands the same object to
 * every subscriber of a run, so 100 watchers cost one JSON.stringify, not 100.
 */
export function eventMessage(event: RunEvent): string {
  let s = serialized.get(event);
  if (s === undefined) {
    s = JSON.stringify({ kind: 'event', event } satisfies SocketMessage);
    serialized.set(event, s);
  }
  return s;
}

/**
 * Cross-site WebSocket hijacking guard: browsers always send Origin, so an Origin must be the
 * server's own (same host) or explicitly allowed. Non-browser clients send none and pass (they
 * still need a token).
 */
export function originAllowed(origin: string | undefined, host: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined) return true;
  if (allowed.includes(origin)) return true;
  try {
    const u = new URL(origin);
    return host !== undefined && u.host === host && (u.protocol === 'http:' || u.protocol === 'https:');
  } catch {
    return false;
  }
}
