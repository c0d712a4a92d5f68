/**
 * The `pg` driver is loaded when a PostgreSQL database is opened, not when the store is
 * imported: a process on SQLite never holds it. It is CommonJS, so `require` returns the very
 * instance an `import` would (one module cache; `instanceof pg.DatabaseError` holds).
 */
import { createRequire } from 'node:module';
import type pg from 'pg';

const load = createRequire(import.meta.url);
let mod: typeof pg | undefined;

/** The `pg` module, loaded on first use. */
export function pgModule(): typeof pg {
  mod ??= load('pg') as typeof pg;
  return mod;
}
