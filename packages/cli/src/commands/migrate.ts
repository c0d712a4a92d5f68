/** `trellis migrate [--db PATH|postgres://…]`: applies pending database migrations and lists them. */
import { parseArgs } from 'node:util';
import { DEFAULT_DB } from '@trellis/server';
import { migrate as applyMigrations, isPostgresUrl, openPostgres, openSqlite } from '@trellis/store';

export async function migrate(argv: string[]): Promise<number> {
  let db: string;
  try {
    const { values } = parseArgs({ args: argv, options: { db: { type: 'string' } } });
    db = values.db ?? process.env.TRELLIS_DB ?? DEFAULT_DB;
  } catch (err) {
    process.stderr.write(`trellis migrate: ${(err as Error).message}\nUsage: trellis migrate [--db PATH|postgres://…]\n`);
    return 2;
  }
  try {
    // Open without the runs area: it prepares statements on tables that may not exist yet.
    const store = isPostgresUrl(db) ? await openPostgres(db, { migrate: false }) : await openSqlite(db, { migrate: false });
    try {
      const applied = await applyMigrations(store);
      process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'the database is up to date\n');
    } finally {
      await store.close();
    }
    return 0;
  } catch (err) {
    process.stderr.write(`trellis migrate: ${(err as Error).message}\n`);
    return 1;
  }
}
