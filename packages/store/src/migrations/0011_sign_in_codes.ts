import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * One-time console sign-in codes: the link `trellis serve` prints carries a short-lived code,
 * never a token. Only the code's SHA-256 is stored; `used_at` makes it single use.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run against any database shape
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('sign_in_codes')
    .addColumn('code_hash', 'text', (c) => c.primaryKey())
    .addColumn('principal', 'text', (c) => c.notNull())
    .addColumn('is_admin', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .execute();
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    const cols = ['code_hash', 'principal', 'created_at', 'expires_at', 'used_at'];
    await sql`alter table sign_in_codes ${sql.join(cols.map((c) => sql`alter column ${sql.ref(c)} type text collate "C"`))}`.execute(
      db,
    );
  }
}
