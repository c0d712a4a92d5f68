import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * Observability (docs/observability.md).
 *
 * - `runs.trace_parent`: the W3C `traceparent` of the caller that started the run (an API,
 *   webhook, MCP or A2A request, or the parent run's `workflow` node attempt), so the run's
 *   trace continues the caller's trace — also after a crash, when another process resumes it.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against any database shape
export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const text = pg ? sql`text collate "C"` : sql`text`;
  await db.schema.alterTable('runs').addColumn('trace_parent', text).execute();
}
