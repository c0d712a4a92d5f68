/** `trellis migrate [--db PATH]`: applies pending database migrations and lists them. */
import { parseArgs } from 'node:util';
import { DEFAULT_DB } from '@trellis/server';
import { migrate as applyMigrations, openSqlite } from '@trellis/store';

export async function migrate(argv: string[]): Promise<number> {
  let db: string;
  try {
    const { values } = parseArgs({ args: argv, options: { db: { type: 'string' } } });
    db = values.db ?? process.env.TRELLIS_DB ?? DEFAULT_DB;
  } catch (err) {
    process.stderr.write(`trellis migrate: ${(err as Error).message}\nUsage: trellis migrate [--db PATH]\n`);
    return 2;
  }
  if (/^postgres(ql)?:\/\//.test(db)) {
    process.stderr.write('trellis migrate: PostgreSQL is not supported by this build yet; use a SQLite path\n');
    return 2;
  }
  try {
    const handle = await openSqlite(db, { migrate: false });
    try {
      const applied = await applyMigrations(handle);
      process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'the database is up to date\n');
    } finally {
      await handle.close();
    }
    return 0;
  } catch (err) {
    process.stderr.write(`trellis migrate: ${(err as Error).message}\n`);
    return 1;
  }
}
