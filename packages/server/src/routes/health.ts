/** Liveness, readiness and Prometheus metrics: no token needed (bind to loopback or firewall them). */
import { sql } from 'kysely';
import { z } from 'zod';
import { collectStoreMetrics } from '../http/metrics.ts';
import { HttpProblem } from '../http/problem.ts';
import type { Api } from '../http/route.ts';

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

  app.get('/metrics', async (_req, reply) => {
    const lines = [...ctx.metrics.renderOwn(), ...(await collectStoreMetrics(ctx.db))];
    reply.type('text/plain; version=0.0.4; charset=utf-8');
    return `${lines.join('\n')}\n`;
  });

  api.route({
    method: 'GET',
    path: '/healthz',
    operationId: 'health',
    summary: 'Liveness (also at /healthz)',
    tags: ['operations'],
    access: { kind: 'public' },
    responses: { 200: { description: 'alive', schema: z.object({ status: z.literal('ok') }) } },
    handler: async () => ({ status: 'ok' as const }),
  });
}
