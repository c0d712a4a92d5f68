import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/**
 * Lease loss gets a column of its own: `attempts.lease_lost` is 1 for an attempt that ended
 * because the worker running it stopped (its lease expired), 0 otherwise. Such attempts do not
 * count against the node's `retry.maxAttempts`; recovery counts them with this column instead
 * of matching the error's JSON text. Existing rows are backfilled from that text, once.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against any database shape
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('attempts')
    .addColumn('lease_lost', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await backfillLeaseLost(db);
}

/** Marks the attempts recorded before this column existed that ended by lease loss (by their error text). */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against any database shape
export async function backfillLeaseLost(db: Kysely<any>): Promise<void> {
  await sql`update attempts set lease_lost = 1 where lease_lost = 0 and error like ${'{"code":"LEASE_EXPIRED"%'}`.execute(db);
}
