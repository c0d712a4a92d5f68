import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * Scratch runs ("test this node", "run up to here" in the builder). They run through the real
 * engine as runs of a hidden *scratch workflow* that belongs to the workflow being edited, so the
 * workflow's own history (run lists, last run, analytics, triggers) never sees them.
 *
 * - `workflows.scratch_of`: set on a scratch workflow, the id of the workflow it tests (unique:
 *   one scratch workflow per workflow). Lists of workflows and of runs leave these out.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against any database shape
export async function up(db: Kysely<any>): Promise<void> {
  // On PostgreSQL every text column compares bytewise (collation "C", as migration 0003 sets).
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const text = pg ? sql`text collate "C"` : sql`text`;
  await db.schema.alterTable('workflows').addColumn('scratch_of', text).execute();
  await db.schema.createIndex('workflows_scratch_of').unique().on('workflows').columns(['scratch_of']).execute();
}
