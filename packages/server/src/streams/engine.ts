/** The engine, or a 503 when this server runs without one (contract tests, a broken start). */
import type { Engine } from '@trellis/runtime';
import type { Principal, Role } from '@trellis/store';
import type { ServerContext } from '../http/context.ts';
import { HttpProblem } from '../http/problem.ts';
import type { AccessLoss } from './access-watch.ts';

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
 * Open live streams per principal, bounded: each holds a socket and a subscription, so one
 * client cannot exhaust the server by opening thousands — and the bound counts every token of
 * the principal together, so minting tokens does not raise it. Returns a release function, or
 * throws 429.
 */
export function acquireStream(ctx: ServerContext, principal: string): () => void {
  const open = ctx.streamsByPrincipal.get(principal) ?? 0;
  if (open >= ctx.limits.streamsPerPrincipal)
    throw new HttpProblem(
      'RATE_LIMITED',
      `'${principal}' already has ${open} open event streams (the limit, for all its tokens together); close some first`,
      { headers: { 'retry-after': '5' } },
    );
  ctx.streamsByPrincipal.set(principal, open + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const n = (ctx.streamsByPrincipal.get(principal) ?? 1) - 1;
    if (n <= 0) ctx.streamsByPrincipal.delete(principal);
    else ctx.streamsByPrincipal.set(principal, n);
  };
}

/** Who holds a stream and what it needs: re-checked while the stream is open (access-watch.ts). */
export interface StreamAccess {
  principal: Principal;
  workflowId: string;
  role: Role;
}

/** Puts a stream under the access watch; returns the function that takes it off. */
export function watchAccess(
  ctx: ServerContext,
  access: StreamAccess,
  end: (loss: AccessLoss, reason: string) => void,
): () => void {
  return ctx.streamAccess.add({
    tokenId: access.principal.tokenId,
    principal: access.principal.name,
    workflowId: access.workflowId,
    role: access.role,
    end,
  });
}
