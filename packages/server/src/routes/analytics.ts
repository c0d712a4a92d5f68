/**
 * `GET /workflows/:id/analytics`: where a workflow's time and money go over a window — runs over
 * time by status, duration percentiles, cost per run, the slowest and most expensive nodes,
 * failure reasons by error code (docs/observability.md § Run analytics). Viewers of the workflow
 * may read it; it covers that workflow's runs only (builder test runs belong to a hidden
 * workflow and never appear).
 */

import { analyticsQuery, idParams, WINDOW_SPECS, workflowAnalyticsSchema } from '@trellis/client/schemas';
import { getVersion, workflowAnalytics } from '@trellis/store';
import type { Api } from '../http/route.ts';

export function analyticsRoutes(api: Api): void {
  const { ctx } = api;
  api.route({
    method: 'GET',
    path: '/workflows/:id/analytics',
    operationId: 'workflowAnalytics',
    summary: "The workflow's run analytics over a window: runs by status, durations, cost, slowest and costliest nodes, failures",
    tags: ['runs'],
    access: { kind: 'workflow', role: 'viewer', workflowId: ({ params }) => params.id },
    params: idParams,
    query: analyticsQuery,
    responses: { 200: { description: 'the analytics', schema: workflowAnalyticsSchema } },
    handler: async ({ workflow, query }) => {
      const w = workflow!;
      const spec = WINDOW_SPECS[query.window];
      const now = Date.now();
      const result = await workflowAnalytics(ctx.db, {
        workflowId: w.id,
        from: new Date(now - spec.ms).toISOString(),
        to: new Date(now + 1).toISOString(),
        bucket: spec.bucket,
      });
      const def = (await getVersion(ctx.db, w.id, w.latestVersion))?.definition as
        | { nodes?: { id?: unknown; type?: unknown }[] }
        | undefined;
      const types = new Map<string, string>();
      for (const n of def?.nodes ?? []) if (typeof n.id === 'string' && typeof n.type === 'string') types.set(n.id, n.type);
      return {
        workflowId: w.id,
        window: query.window,
        ...result,
        nodes: {
          runsSampled: result.nodes.runsSampled,
          stats: result.nodes.stats.map((s) => ({ ...s, type: types.get(s.nodeId) ?? null })),
        },
      };
    },
  });
}
