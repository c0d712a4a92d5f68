import type { Kysely } from 'kysely';

/**
 * `map` and `workflow` nodes. A map's items are rows of `node_runs` keyed `<nodeId>[<index>]`
 * (created when an item first starts), so item state is as incremental as node state; the map's
 * own row records how many items its `items` binding resolved to. A child run records the run,
 * node (or item) that started it and its nesting depth.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against any database shape
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('node_runs').addColumn('item_count', 'integer').execute();
  await db.schema.alterTable('runs').addColumn('parent_run_id', 'text').execute();
  await db.schema.alterTable('runs').addColumn('parent_node_id', 'text').execute();
  await db.schema
    .alterTable('runs')
    .addColumn('depth', 'integer', (c) => c.defaultTo(0))
    .execute();
  await db.schema.createIndex('runs_parent').on('runs').columns(['parent_run_id']).execute();
}
