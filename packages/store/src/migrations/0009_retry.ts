import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * Retries (docs/retry.md). A retry is a new run linked to the run it retries; the nodes it
 * reuses are written, already resolved, when it is created.
 *
 * - `runs.retry_of`: the run this one retries (indexed: a run record lists its retries).
 * - `runs.retry_info`: JSON `{ from?, version: "same"|"latest", fromVersion, costSavedUsd }`.
 * - `node_runs.reused_from`: the run that executed a reused node.
 * - `node_runs.retry_info`: JSON `{ costSavedUsd?, notReused?, reuseNote?, approvalRequired? }`.
 * - `attempts.reused_from`: an attempt copied from that run.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against any database shape
export async function up(db: Kysely<any>): Promise<void> {
  // On PostgreSQL every text column compares bytewise (collation "C", as migration 0003 sets).
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const text = pg ? sql`text collate "C"` : sql`text`;
  await db.schema.alterTable('runs').addColumn('retry_of', text).execute();
  await db.schema.alterTable('runs').addColumn('retry_info', text).execute();
  await db.schema.alterTable('node_runs').addColumn('reused_from', text).execute();
  await db.schema.alterTable('node_runs').addColumn('retry_info', text).execute();
  await db.schema.alterTable('attempts').addColumn('reused_from', text).execute();
  await db.schema.createIndex('runs_retry_of').on('runs').columns(['retry_of', 'created_at']).execute();
}
