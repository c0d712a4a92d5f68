import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * Observability (docs/observability.md).
 *
 * - `runs.trace_parent`: the W3C `traceparent` of the caller that started the run (an API,
 *   webhook, MCP or A2A request, or the parent run's `workflow` node attempt), so the run's
 *   trace continues the caller's trace — also after a crash, when another process resumes it.
 * - `runs_analytics`: a covering index for the workflow analytics page — the window's runs of a
 *   workflow with their status, cost and times read from the index alone (no table lookups), so
 *   100,000 runs aggregate in one index range scan. Its price: a run's status, cost and time
 *   updates also update this index entry.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against any database shape
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const text = pg ? sql`text collate "C"` : sql`text`;
  await db.schema.alterTable('runs').addColumn('trace_parent', text).execute();
  await db.schema
    .createIndex('runs_analytics')
    .on('runs')
    .columns(['workflow_id', 'created_at', 'status', 'cost_usd', 'started_at', 'finished_at'])
    .execute();
}
