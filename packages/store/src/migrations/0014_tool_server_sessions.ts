import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * MCP tool servers: how sessions are scoped (`sessions`: `run` — one session per run, the
 * default — or `shared`, one pooled session for a server declared stateless), and a stdio
 * server's environment (`env`, JSON of name → template that may hold `{{ $secrets.NAME }}`) and
 * working directory (`cwd`).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against any database shape
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('tool_servers')
    .addColumn('sessions', 'text', (c) => c.notNull().defaultTo('run'))
    .execute();
  await db.schema.alterTable('tool_servers').addColumn('env', 'text').execute();
  await db.schema.alterTable('tool_servers').addColumn('cwd', 'text').execute();
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`alter table tool_servers alter column sessions type text collate "C", alter column env type text collate "C", alter column cwd type text collate "C"`.execute(
      db,
    );
  }
}
