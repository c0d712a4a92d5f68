/**
 * `GET /workflow_runs`: runs across every workflow the caller may see (any role; administrators:
 * all), newest first, filterable by workflow, status, creation time, origin (API or trigger) and
 * nesting. The console's Runs page and each workflow's history read it. Test runs never appear.
 */

import { runHistoryPageSchema, runHistoryQuery } from '@trellis/client/schemas';
import { InvalidHistoryCursorError, listRunHistory, triggersOfRuns } from '@trellis/store';
import { HttpProblem } from '../http/problem.ts';
import type { Api } from '../http/route.ts';

export function runHistoryRoutes(api: Api): void {
  const { ctx } = api;
  api.route({
    method: 'GET',
    path: '/workflow_runs',
    operationId: 'listAllRuns',
    summary: 'Runs of every workflow the caller may see, newest first, filterable; with input previews and triggers',
    tags: ['runs'],
    access: { kind: 'user' },
    query: runHistoryQuery(ctx.limits.maxPageSize),
    responses: { 200: { description: 'a page', schema: runHistoryPageSchema } },
    handler: async ({ query, principal }) => {
      if (query.since !== undefined && query.until !== undefined && query.since >= query.until)
        throw new HttpProblem('BAD_REQUEST', "'since' must be before 'until'");
      try {
        const page = await listRunHistory(ctx.db, {
          principal: principal.name,
          isAdmin: principal.isAdmin,
          workflowId: query.workflowId,
          status: query.status,
          since: query.since,
          until: query.until,
          origin: query.origin,
          topLevel: query.topLevel,
          limit: query.limit,
          cursor: query.cursor,
        });
        const triggers = await triggersOfRuns(
          ctx.db,
          page.items.map((r) => r.id),
        );
        return {
          items: page.items.map((r) => {
            const trigger = triggers.get(r.id);
            return trigger ? { ...r, trigger } : r;
          }),
          nextCursor: page.nextCursor,
        };
      } catch (err) {
        if (err instanceof InvalidHistoryCursorError) throw new HttpProblem('BAD_REQUEST', err.message);
        throw err;
      }
    },
  });
}
