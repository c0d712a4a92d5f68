/**
 * A run's events over a WebSocket. Messages are the closed union `SocketMessage`: `event`
 * (one committed event), then `end` after the terminal event, and the server closes with 1000.
 * Stored events are replayed at the pace the client reads them (see replay.ts); live events are
 * never waited for: when the socket's unsent bytes pass the limit, the server closes with 4008
 * and a reason, and the client reconnects with `after=<last seq it received>`, missing nothing.
 */
import type { WebSocket } from '@fastify/websocket';
import type { SocketMessage } from '@trellis/client/schemas';
import type { ErrorInfo, RunEvent } from '@trellis/core';
import { replayFailure, type Subscription } from '@trellis/runtime';
import type { ServerContext } from '../http/context.ts';
import { engineOf, type StreamAccess, watchAccess } from './engine.ts';
import { replayThenFollow } from './replay.ts';

/** Close codes this server uses (4000–4999 is the application range). */
export const WS_CLOSE = {
  /** The run finished and every event was sent. */
  done: 1000,
  /** The server is shutting down; reconnect later with `after`. */
  goingAway: 1001,
  /** The client fell too far behind live events; reconnect with `after`. */
  slowConsumer: 4008,
  /** The stream's token was revoked or expired while it was open; do not reconnect with it. */
  tokenRevoked: 4401,
  /** The principal lost the role the stream needs on the run's workflow. */
  accessWithdrawn: 4403,
  /**
   * The stream cannot go on without a gap (the stored events could not be read): an `error`
   * message with the code (REPLAY_FAILED) and `resumeAfter` precedes it; reconnect with that.
   */
  failed: 1011,
} as const;

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

export function streamWebSocket(
  ctx: ServerContext,
  socket: WebSocket,
  stream: { runId: string; after: number; access: StreamAccess },
  release: () => void,
): void {
  const { runId, after } = stream;
  const engine = engineOf(ctx);
  const highWater = ctx.limits.socketHighWaterBytes;
  let closed = false;
  let lastSeq = after;
  let sub: Subscription | undefined;
  const open = () => !closed && socket.readyState === socket.OPEN;
  const close = (code: number, reason: string) => {
    if (closed) return;
    closed = true;
    sub?.close();
    ctx.streams.delete(onShutdown);
    unwatch();
    ctx.metrics.openStreams--;
    release();
    if (socket.readyState === socket.OPEN) socket.close(code, reason.slice(0, 120));
  };
  const onShutdown = (reason: string) => close(WS_CLOSE.goingAway, reason);
  // Access is re-checked while the socket is open (access-watch.ts).
  const unwatch = watchAccess(ctx, stream.access, (loss, reason) =>
    close(loss === 'revoked' ? WS_CLOSE.tokenRevoked : WS_CLOSE.accessWithdrawn, `access ended: ${reason}`),
  );
  const deliver = (event: RunEvent) => {
    if (!open()) return;
    ctx.metrics.observeEventLag(event.at);
    socket.send(eventMessage(event));
    lastSeq = event.seq;
  };
  const end = (status: SocketMessage & { kind: 'end' }) => {
    if (open()) socket.send(JSON.stringify(status));
    close(WS_CLOSE.done, 'run finished');
  };
  /** The subscriber is told, with a code and where to resume, instead of silently missing events. */
  const fail = (error: ErrorInfo) => {
    if (open()) socket.send(JSON.stringify({ kind: 'error', error, resumeAfter: lastSeq } satisfies SocketMessage));
    close(WS_CLOSE.failed, error.code);
  };
  ctx.streams.add(onShutdown);
  ctx.metrics.openStreams++;
  socket.on('close', () => close(WS_CLOSE.done, 'client closed'));
  // Clients have nothing to say; a message is ignored rather than treated as an error.
  socket.on('message', () => undefined);

  replayThenFollow(engine, {
    runId,
    after,
    closed: () => !open(),
    deliver,
    backlogged: () => socket.bufferedAmount > highWater,
    drained: async () => {
      while (open() && socket.bufferedAmount > highWater / 2) await new Promise((r) => setTimeout(r, 5));
    },
    end: (status, seq) => end({ kind: 'end', status, lastSeq: seq }),
    follow: (from) => {
      sub = engine.subscribe(runId, {
        after: from,
        onEvent: (event) => {
          if (!open()) return;
          // Live: the runner never waits for a socket. Too far behind → cut off; it resumes.
          if (socket.bufferedAmount > highWater) {
            ctx.metrics.streamsDroppedSlow++;
            close(WS_CLOSE.slowConsumer, `slow consumer: reconnect with after=${lastSeq}`);
            return;
          }
          deliver(event);
        },
        onEnd: () => {
          engine.getRun(runId).then(
            (run) => (run ? end({ kind: 'end', status: run.status, lastSeq }) : close(WS_CLOSE.done, 'run finished')),
            () => close(WS_CLOSE.done, 'run finished'),
          );
        },
        onError: fail,
      });
      if (closed) sub.close();
    },
  }).catch((err: unknown) => fail(replayFailure(runId, lastSeq, err)));
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
