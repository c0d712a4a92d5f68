/**
 * Server-Sent Events for a run: replays the stored events after `after` at the pace the client
 * reads them (replay.ts), then follows live ones (the engine's subscribe is gap-free). Each
 * event carries `id: <seq>` so a browser's EventSource resumes with `Last-Event-ID` on its own.
 * A client that cannot keep up with live events is cut off (an `event: close` frame says where
 * to resume) rather than slowing the runner.
 */
import type { RunEvent } from '@trellis/core';
import { replayFailure, type Subscription } from '@trellis/runtime';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerContext } from '../http/context.ts';
import { acquireStream, engineOf, type StreamAccess, watchAccess } from './engine.ts';
import { replayThenFollow } from './replay.ts';

export interface SseOptions {
  runId: string;
  /** Who watches, and the role they need on the run's workflow: checked again while the stream is open. */
  access: StreamAccess;
  after: number;
  /** Called once after the terminal event; may write a last frame (chat's `output`). */
  onEnd?: (write: (event: string, data: unknown) => void) => Promise<void>;
}

const HEARTBEAT_MS = 15_000;

export function streamSse(ctx: ServerContext, req: FastifyRequest, reply: FastifyReply, options: SseOptions): FastifyReply {
  const engine = engineOf(ctx);
  const release = acquireStream(ctx, options.access.principal.name);
  const highWater = ctx.limits.socketHighWaterBytes;
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': req.id,
  });
  res.write('retry: 1000\n\n');
  let closed = false;
  let lastSeq = options.after;
  let sub: Subscription | undefined;
  const close = (reason?: string, code?: string, resume?: boolean) => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    sub?.close();
    ctx.streams.delete(close);
    unwatch();
    ctx.metrics.openStreams--;
    release();
    if (code)
      res.write(`event: close\ndata: ${JSON.stringify({ code, reason, ...(resume ? { resumeAfter: lastSeq } : {}) })}\n\n`);
    else if (reason) res.write(`event: close\ndata: ${JSON.stringify({ reason, resumeAfter: lastSeq })}\n\n`);
    res.end();
  };
  // Access is re-checked while the stream is open: a revoked token or a withdrawn role ends it
  // with an `event: close` frame whose `code` says which (it must not reconnect with the same token).
  const unwatch = watchAccess(ctx, options.access, (loss, reason) =>
    close(`access ended: ${reason}`, loss === 'revoked' ? 'TOKEN_REVOKED' : 'ACCESS_WITHDRAWN'),
  );
  const write = (event: string, data: unknown, id?: number) => {
    if (!closed) res.write(`${id !== undefined ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const deliver = (e: RunEvent) => {
    ctx.metrics.observeEventLag(e.at);
    write(e.type, e, e.seq);
    lastSeq = e.seq;
  };
  const finish = () => {
    const done = options.onEnd ? options.onEnd((event, data) => write(event, data)) : Promise.resolve();
    done.then(
      () => {
        write('end', { lastSeq });
        close();
      },
      () => close(),
    );
  };
  const heartbeat = setInterval(() => {
    if (!closed) res.write(': keep-alive\n\n');
  }, HEARTBEAT_MS);
  heartbeat.unref();
  ctx.metrics.openStreams++;
  ctx.streams.add(close);
  req.raw.on('close', () => close());
  res.on('close', () => close());

  replayThenFollow(engine, {
    runId: options.runId,
    after: options.after,
    closed: () => closed,
    deliver,
    backlogged: () => res.writableLength > highWater,
    drained: () =>
      new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.once('drain', done);
        res.once('close', done);
      }),
    end: () => finish(),
    follow: (from) => {
      sub = engine.subscribe(options.runId, {
        after: from,
        onEvent: (e: RunEvent) => {
          if (closed) return;
          // Live: the runner never waits for a socket. Too far behind → cut off; it resumes.
          if (res.writableLength > highWater) {
            ctx.metrics.streamsDroppedSlow++;
            close('slow consumer: reconnect with Last-Event-ID');
            return;
          }
          deliver(e);
        },
        onEnd: () => finish(),
        onError: (error) => close(error.message, error.code, true),
      });
      if (closed) sub.close();
    },
  }).catch((err: unknown) => {
    // A replay that fails is said, with a code and where to resume — never a silent end.
    const error = replayFailure(options.runId, lastSeq, err);
    close(error.message, error.code, true);
  });
  return reply;
}

/** The resume point: the larger of `?after=` and a numeric `Last-Event-ID` header. */
export function resumeAfter(req: FastifyRequest, after: number): number | 'invalid' {
  const h = req.headers['last-event-id'];
  if (h === undefined) return after;
  const s = Array.isArray(h) ? h[0] : h;
  if (s === undefined || s === '') return after;
  if (!/^\d{1,15}$/.test(s)) return 'invalid';
  return Math.max(after, Number(s));
}

export function wantsEventStream(req: FastifyRequest): boolean {
  const a = req.headers.accept;
  return typeof a === 'string' && a.includes('text/event-stream');
}
