import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * A2A tasks of the workflows served as A2A agents (`/a2a/workflows/:id`), kept across restarts.
 * The layout is the official `@a2a-js/sdk` database task store's (`DatabaseTaskStore`), which
 * reads and writes it: `tenant` holds the workflow id, `owner` the principal that created the
 * task; `status`, `artifacts`, `history` and `metadata` are the task's A2A JSON (the metadata
 * carries `trellisRunId`, the run the task follows — also found by the idempotency key
 * `a2a:<taskId>`). `status_last_updated` is the status timestamp in epoch milliseconds.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against any database shape
export async function up(db: Kysely<any>): Promise<void> {
  // On PostgreSQL every text column compares bytewise (collation "C", as migration 0003 sets).
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const text = pg ? sql`text collate "C"` : sql`text`;
  await db.schema
    .createTable('a2a_tasks')
    .addColumn('tenant', text, (c) => c.notNull())
    .addColumn('owner', text, (c) => c.notNull())
    .addColumn('id', text, (c) => c.notNull())
    .addColumn('context_id', text, (c) => c.notNull())
    .addColumn('status_last_updated', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('status_state', text)
    .addColumn('status', text)
    .addColumn('artifacts', text)
    .addColumn('history', text)
    .addColumn('metadata', text)
    .addColumn('protocol_version', text)
    .addPrimaryKeyConstraint('a2a_tasks_pk', ['tenant', 'owner', 'id'])
    .execute();
  // tasks/list: a caller's tasks on one workflow, newest first.
  await db.schema
    .createIndex('a2a_tasks_listing')
    .on('a2a_tasks')
    .columns(['tenant', 'owner', 'status_last_updated', 'id'])
    .execute();
}
