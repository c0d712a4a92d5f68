/** The engine, or a 503 when this server runs without one (contract tests, a broken start). */
import type { Engine } from '@trellis/runtime';
import type { ServerContext } from '../http/context.ts';
import { HttpProblem } from '../http/problem.ts';

export function engineOf(ctx: ServerContext): Engine {
  if (!ctx.engine) throw new HttpProblem('UNAVAILABLE', 'this server has no runner attached; start it with `trellis serve`');
  return ctx.engine;
}

/** Refuses new work while the server drains (SIGTERM): the client should retry elsewhere or later. */
export function assertAcceptingWork(ctx: ServerContext): void {
  if (ctx.draining)
    throw new HttpProblem('UNAVAILABLE', 'the server is shutting down and accepts no new runs; retry shortly', {
      headers: { 'retry-after': '5' },
    });
}

/**
 * Open live streams per token, bounded: each holds a socket and a subscription, so one client
 * cannot exhaust the server by opening thousands. Returns a release function, or throws 429.
 */
export function acquireStream(ctx: ServerContext, tokenId: string): () => void {
  const open = ctx.streamsByToken.get(tokenId) ?? 0;
  if (open >= ctx.limits.streamsPerToken)
    throw new HttpProblem('RATE_LIMITED', `this token already has ${open} open event streams; close some first`, {
      headers: { 'retry-after': '5' },
    });
  ctx.streamsByToken.set(tokenId, open + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const n = (ctx.streamsByToken.get(tokenId) ?? 1) - 1;
    if (n <= 0) ctx.streamsByToken.delete(tokenId);
    else ctx.streamsByToken.set(tokenId, n);
  };
}
