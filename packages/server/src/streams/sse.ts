/**
 * Server-Sent Events for a run: replays events after `after`, then streams live ones (the
 * engine's subscribe is gap-free). Each event carries `id: <seq>` so a browser's EventSource
 * resumes with `Last-Event-ID` on its own. A client that cannot keep up (its socket buffer
 * stays full past the limit) is disconnected rather than slowing the runner; it resumes.
 */
import { isTerminalRunStatus, type RunEvent } from '@trellis/core';
import type { Subscription } from '@trellis/runtime';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerContext } from '../http/context.ts';
import { acquireStream, engineOf } from './engine.ts';

export interface SseOptions {
  runId: string;
  /** The caller's token, for the per-token stream bound. */
  tokenId: string;
  after: number;
  /** Called once after the terminal event; may write a last frame (chat's `output`). */
  onEnd?: (write: (event: string, data: unknown) => void) => Promise<void>;
}

const HEARTBEAT_MS = 15_000;

export function streamSse(ctx: ServerContext, req: FastifyRequest, reply: FastifyReply, options: SseOptions): FastifyReply {
  const engine = engineOf(ctx);
  const release = acquireStream(ctx, options.tokenId);
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
  let pending = 0;
  let lastSeq = options.after;
  const close = (reason?: string) => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    sub?.close();
    ctx.streams.delete(close);
    ctx.metrics.openStreams--;
    release();
    if (reason) res.write(`event: close\ndata: ${JSON.stringify({ reason, resumeAfter: lastSeq })}\n\n`);
    res.end();
  };
  const write = (event: string, data: unknown, id?: number) => {
    if (closed) return;
    const ok = res.write(`${id !== undefined ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    if (!ok) {
      pending++;
      if (pending > ctx.limits.streamBuffer || res.writableLength > ctx.limits.socketHighWaterBytes) {
        ctx.metrics.streamsDroppedSlow++;
        close('slow consumer: reconnect with Last-Event-ID');
      }
    }
  };
  res.on('drain', () => {
    pending = 0;
  });
  const heartbeat = setInterval(() => {
    if (!closed) res.write(': keep-alive\n\n');
  }, HEARTBEAT_MS);
  heartbeat.unref();
  ctx.metrics.openStreams++;
  ctx.streams.add(close);
  let sub: Subscription | undefined;
  const subscribe = () => {
    sub = engine.subscribe(options.runId, {
      after: options.after,
      onEvent: (e: RunEvent) => {
        lastSeq = e.seq;
        ctx.metrics.observeEventLag(e.at);
        write(e.type, e, e.seq);
      },
      onEnd: () => finish(),
    });
    if (closed) sub.close();
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
  // Resuming after the terminal event: nothing left, so end at once (see websocket.ts).
  engine.getRun(options.runId).then(
    (run) => {
      if (closed) return;
      if (run && isTerminalRunStatus(run.status) && options.after >= run.lastSeq) finish();
      else subscribe();
    },
    () => close(),
  );
  req.raw.on('close', () => close());
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
