import type { Kysely } from 'kysely';

/**
 * Triggers (schedules and webhooks). `triggers` holds the current triggers of each workflow's
 * latest version, with the next due tick of each schedule (the scheduler's one indexed query);
 * `trigger_runs` says which run a trigger started; `webhook_deliveries` remembers delivery ids
 * for 24 hours so that a sender's retry returns the first run.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against any database shape
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('triggers')
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    .addColumn('trigger_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('spec', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('next_fire_at', 'text')
    .addColumn('last_fired_at', 'text')
    .addColumn('last_run_id', 'text')
    .addColumn('secret', 'text')
    .addColumn('secret_created_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('triggers_pk', ['workflow_id', 'trigger_id'])
    .execute();
  await db.schema.createIndex('triggers_due').on('triggers').columns(['next_fire_at']).execute();

  await db.schema
    .createTable('trigger_runs')
    .addColumn('run_id', 'text', (c) => c.primaryKey())
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    .addColumn('trigger_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('tick', 'text')
    .addColumn('delivery_id', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('trigger_runs_by_trigger')
    .on('trigger_runs')
    .columns(['workflow_id', 'trigger_id', 'created_at'])
    .execute();

  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    .addColumn('trigger_id', 'text', (c) => c.notNull())
    .addColumn('delivery_id', 'text', (c) => c.notNull())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addColumn('run_id', 'text')
    .addPrimaryKeyConstraint('webhook_deliveries_pk', ['workflow_id', 'trigger_id', 'delivery_id'])
    .execute();
  await db.schema.createIndex('webhook_deliveries_received').on('webhook_deliveries').columns(['received_at']).execute();
}
