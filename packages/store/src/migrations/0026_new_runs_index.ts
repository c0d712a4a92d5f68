import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * PostgreSQL only (a no-op on SQLite, where one process runs everything and nothing claims):
 * an index of the runs nobody has claimed yet, for the claim a "new runs" wake-up makes.
 *
 * Every worker a wake-up reaches claims, and all but one usually find nothing; that empty claim
 * must cost the database next to nothing, or the database's CPU per run grows with the number
 * of workers. Through `runs_status (status, lease_expires_at)` it did not: a run's claim and its
 * start each write a new row version (both columns are in that index), the index keeps an entry
 * for every old version until vacuum, and the planner's bitmap scan of `status = 'queued'` read
 * them all (1,400–1,650 entries and about 50 table pages per claim, measured under four workers
 * at 64 runs in flight) — a bitmap scan never marks an entry dead. This partial index holds only
 * runs that are queued and unleased, in creation order: the claim is a plain index scan from its
 * start, which marks the entries of runs claimed meanwhile dead as it passes them, so the next
 * claim skips them.
 *
 * A queued run whose lease lapsed (its worker died between the claim and the start) is not in
 * this index; the periodic full claim takes it once the lease has run out, as it takes a
 * running run of a dead worker.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against any database shape
export async function up(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`create index runs_new on runs (created_at, id) where status = 'queued' and lease_expires_at is null`.execute(db);
}
