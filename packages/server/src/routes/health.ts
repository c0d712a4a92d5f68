/**
 * Liveness and readiness need no token (probes cannot send one). Prometheus metrics need a
 * token unless the server was started with public metrics (`TRELLIS_METRICS_PUBLIC=1`), for
 * scrapers that cannot send a bearer token — then bind to loopback or firewall the port. Any
 * principal's token gets the aggregate series; the per-workflow series (labelled by workflow id)
 * need an administrator's token (or public metrics), as they name workflows a user may not see.
 */
import { healthSchema } from '@trellis/client/schemas';
import { sql } from 'kysely';
import { authenticate } from '../http/auth.ts';
import { type CommitStats, collectStoreMetrics, renderCommitStats } from '../http/metrics.ts';
import { HttpProblem } from '../http/problem.ts';
import type { Api } from '../http/route.ts';

/** Whether a /metrics request's principal may read the per-workflow series. */
const perWorkflowAllowed = new WeakMap<object, boolean>();

export function healthRoutes(api: Api): void {
  const { ctx, app } = api;

  // /healthz and /metrics live at the root, where probes and scrapers look for them.
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    if (ctx.draining) throw new HttpProblem('UNAVAILABLE', 'the server is shutting down');
    await sql`select 1`.execute(ctx.db);
    reply.header('cache-control', 'no-store');
    return { status: 'ready', engine: ctx.engine ? 'running' : 'absent' };
  });

  app.get(
    '/metrics',
    {
      // Checked before anything else, like every API route (see route.ts).
      onRequest: async (req) => {
        if (!ctx.publicMetrics) perWorkflowAllowed.set(req, (await authenticate(req, ctx, { query: false })).isAdmin);
      },
    },
    async (req, reply) => {
      const perWorkflow = ctx.publicMetrics || perWorkflowAllowed.get(req) === true;
      const commitStats = (ctx.engine as { commitStats?: CommitStats } | undefined)?.commitStats;
      const lines = [
        ...ctx.metrics.renderOwn(),
        ...renderCommitStats(commitStats),
        ...(await collectStoreMetrics(ctx.db, { perWorkflow })),
      ];
      reply.type('text/plain; version=0.0.4; charset=utf-8');
      return `${lines.join('\n')}\n`;
    },
  );

  api.route({
    method: 'GET',
    path: '/healthz',
    operationId: 'health',
    summary: 'Liveness (also at /healthz)',
    tags: ['operations'],
    access: { kind: 'public' },
    responses: { 200: { description: 'alive', schema: healthSchema } },
    handler: async () => ({ status: 'ok' as const }),
  });
}
