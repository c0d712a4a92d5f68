import type { Kysely } from 'kysely';

/**
 * Indexes for the server's read paths: workflow lists page by (created_at, id), tokens are
 * listed per principal, templates are listed built-in first by name.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against any database shape
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('workflows_created').on('workflows').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('api_tokens_principal').on('api_tokens').columns(['principal']).execute();
  await db.schema.createIndex('templates_list').on('templates').columns(['builtin', 'name']).execute();
}
