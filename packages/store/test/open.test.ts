import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openSqlite, StoreOpenError } from '../src/index.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'trellis-store-'));

describe('openSqlite', () => {
  it('creates and migrates a new database, and reopens it', async () => {
    const path = join(dir(), 'sub', 'trellis.db');
    const h = await openSqlite(path);
    const tables = h.raw.prepare("select name from sqlite_master where type='table'").pluck().all();
    expect(tables).toEqual(expect.arrayContaining(['runs', 'node_runs', 'attempts', 'events', 'workflows']));
    expect(h.raw.pragma('journal_mode', { simple: true })).toBe('wal');
    await h.close();
    const again = await openSqlite(path);
    await again.close();
  });

  it('refuses a file that is not SQLite and leaves it untouched', async () => {
    const path = join(dir(), 'notes.txt');
    writeFileSync(path, 'my precious notes');
    await expect(openSqlite(path)).rejects.toThrow(StoreOpenError);
    await expect(openSqlite(path)).rejects.toThrow(/is not a SQLite database/);
  });

  it("refuses another application's database", async () => {
    const path = join(dir(), 'other.db');
    const other = new BetterSqlite3(path);
    other.exec('create table customers (id integer primary key, name text)');
    other.close();
    await expect(openSqlite(path)).rejects.toThrow(/another application's tables \(customers\)/);
    const check = new BetterSqlite3(path);
    expect(check.prepare("select count(*) from sqlite_master where type='table'").pluck().get()).toBe(1);
    check.close();
  });
});

describe('openSqlite on a damaged file', () => {
  it('refuses a corrupt database with a clear message and does not modify it', async () => {
    const path = join(dir(), 'corrupt.db');
    const h = await openSqlite(path);
    h.raw.exec(`insert into trellis_meta (key, value) values ('x', '${'y'.repeat(20000)}')`);
    h.raw.pragma('wal_checkpoint(TRUNCATE)');
    await h.close();
    const { readFileSync, writeFileSync } = await import('node:fs');
    const bytes = readFileSync(path);
    // Keep the header, scribble over the pages after it.
    bytes.fill(0xab, 4096 + 100, Math.min(bytes.length, 4096 * 6));
    writeFileSync(path, bytes);
    const before = readFileSync(path);
    await expect(openSqlite(path)).rejects.toThrow(/corrupt|malformed|not a database/i);
    expect(readFileSync(path).equals(before)).toBe(true);
  });
});

describe('schema versions', () => {
  it('refuses a database migrated by a newer Trellis, naming the migration', async () => {
    const path = join(dir(), 'newer.db');
    const h = await openSqlite(path);
    h.raw.prepare("insert into trellis_migrations (name, timestamp) values ('9999_from_the_future', '2030-01-01')").run();
    await h.close();
    await expect(openSqlite(path)).rejects.toThrow(/migrated by a newer Trellis \(9999_from_the_future\)/);
  });
});
