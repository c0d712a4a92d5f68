import type { Kysely } from 'kysely';

/**
 * Poison-run quarantine (docs/runtime.md, "Crash loops").
 *
 * - `node_runs.recoveries`: how many recoveries in a row found this node's attempt in flight
 *   after its process stopped uncleanly; at the limit (default 3) the node fails with CRASHED
 *   instead of running again. Back to 0 when an attempt ends by itself.
 * - `node_runs.interrupted`: 1 when a clean shutdown left the attempt in flight, so the next
 *   recovery does not count it.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against any database shape
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('node_runs')
    .addColumn('recoveries', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('node_runs')
    .addColumn('interrupted', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}
