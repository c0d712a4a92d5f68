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
