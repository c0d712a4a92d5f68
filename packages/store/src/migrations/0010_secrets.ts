import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * Secrets (encrypted values, never stored in clear) and the headers of agent and tool-server
 * registrations (templates such as `Bearer {{ $secrets.NAME }}`, stored unresolved).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against any database shape
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('secrets')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    /** base64 of nonce (12 bytes) ‖ AES-256-GCM ciphertext ‖ tag (16 bytes). */
    .addColumn('ciphertext', 'text', (c) => c.notNull())
    /** The id (key check value) of the key that encrypted this row. */
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.alterTable('agents').addColumn('headers', 'text').execute();
  await db.schema.alterTable('tool_servers').addColumn('headers', 'text').execute();
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    const cols = ['name', 'scope', 'description', 'ciphertext', 'key_id', 'created_by', 'created_at', 'updated_by', 'updated_at'];
    await sql`alter table secrets ${sql.join(cols.map((c) => sql`alter column ${sql.ref(c)} type text collate "C"`))}`.execute(
      db,
    );
    await sql`alter table agents alter column headers type text collate "C"`.execute(db);
    await sql`alter table tool_servers alter column headers type text collate "C"`.execute(db);
  }
}
