/** `trellis migrate [--db PATH|postgres://…]`: applies pending database migrations and lists them. */
import { parseArgs } from 'node:util';
import { DEFAULT_DB } from '@trellis/server';
import { migrate as applyMigrations, isPostgresUrl, openPostgres, openSqlite } from '@trellis/store';

export const MIGRATE_HELP = `Usage: trellis migrate [--db PATH|postgres://…]

Applies the pending database migrations and lists them (\`trellis serve\` and \`trellis worker\`
also apply them on start; run this to migrate ahead of a rollout).

Options:
  --db PATH|URL  a SQLite file or a postgres:// URL (default: $TRELLIS_DB, else ${DEFAULT_DB})
  -h, --help     show this help`;

export async function migrate(argv: string[]): Promise<number> {
  let db: string;
  try {
    const { values } = parseArgs({ args: argv, options: { db: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
    if (values.help) {
      process.stdout.write(`${MIGRATE_HELP}\n`);
      return 0;
    }
    db = values.db ?? process.env.TRELLIS_DB ?? DEFAULT_DB;
  } catch (err) {
    process.stderr.write(`trellis migrate: ${(err as Error).message}\n\n${MIGRATE_HELP}\n`);
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
