/**
 * The commit connection's prepared call (a node-postgres submittable that writes Parse/Bind/
 * Execute/Sync itself) against a real PostgreSQL: parameters arrive intact, the statement is
 * parsed once per connection, and every failure takes the driver's paths (a raised exception,
 * a failed Parse, a connection dropped mid-call), leaving the connection usable where it is.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isConnectionError } from '../../src/postgres.ts';
import { callPrepared, PreparedStatement, textArrayLiteral } from '../../src/runs/pg-prepared-call.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';

let pgs: TestPostgres;
let url: string;
beforeAll(async () => {
  pgs = await startPostgres();
  url = await pgs.createDatabase('call');
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(`
    create table calls (n serial primary key, who text, ids text[], doc jsonb);
    create function t_call(p_who text, p_ids text[], p_doc text) returns void language plpgsql as $$
    begin
      if p_who = 'raise' then
        raise exception 'refused: %', p_ids using errcode = 'TR999', detail = p_doc;
      end if;
      if p_who = 'sleep' then perform pg_sleep(30); end if;
      insert into calls (who, ids, doc) values (p_who, p_ids, p_doc::jsonb);
    end $$;`);
  await c.end();
});
afterAll(async () => {
  await pgs?.destroy();
});

const CALL = new PreparedStatement('t_call', 'select from t_call($1, $2, $3)');

async function connect(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return c;
}

describe('a prepared call (submittable)', () => {
  it('sends text, arrays, nulls and large documents intact, and parses the statement once per connection', async () => {
    const c = await connect();
    try {
      const ids = ['plain', 'with "quotes"', 'back\\slash', 'a,b', '{braces}', 'ünïcödé ✓', '', 'NULL'];
      const doc = { text: 'it\'s \\ "quoted"\n\t', emoji: '🌳', big: 'x'.repeat(200_000), n: 1.5, none: null };
      await callPrepared(c, CALL, ['w1', textArrayLiteral(ids), JSON.stringify(doc)]);
      await callPrepared(c, CALL, [null, textArrayLiteral([]), '{}']);
      const rows = (await c.query('select who, ids, doc from calls order by n')).rows;
      expect(rows).toEqual([
        { who: 'w1', ids, doc },
        { who: null, ids: [], doc: {} },
      ]);
      const prepared = await c.query(`select name, statement from pg_prepared_statements where name = 't_call'`);
      expect(prepared.rows).toEqual([{ name: 't_call', statement: CALL.text }]);
      // The driver knows it is parsed: a later call sends Bind/Execute/Sync only.
      expect(
        (c as unknown as { connection: { parsedStatements: Record<string, string> } }).connection.parsedStatements.t_call,
      ).toBe(CALL.text);
      await c.query('delete from calls');
    } finally {
      await c.end();
    }
  });

  it('takes turns with the driver’s own queries on one connection', async () => {
    const c = await connect();
    try {
      await c.query('select pg_sleep(0.01)');
      await callPrepared(c, CALL, ['q1', '{}', '{}']);
      expect((await c.query(`select count(*)::int as n from calls where who = 'q1'`)).rows).toEqual([{ n: 1 }]);
      await callPrepared(c, CALL, ['q2', '{}', '{}']);
      expect((await c.query(`select who from calls order by n`)).rows.map((r) => r.who)).toEqual(['q1', 'q2']);
      await c.query('delete from calls');
    } finally {
      await c.end();
    }
  });

  it('rejects with the server’s error (code, message, detail); the connection and the statement stay usable', async () => {
    const c = await connect();
    try {
      await callPrepared(c, CALL, ['ok', '{}', '{}']);
      const err = await callPrepared(c, CALL, ['raise', textArrayLiteral(['r1', 'r2']), '["r2"]']).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(pg.DatabaseError);
      expect(err).toMatchObject({ code: 'TR999', message: 'refused: {r1,r2}', detail: '["r2"]' });
      expect(isConnectionError(err)).toBe(false);
      await callPrepared(c, CALL, ['after', '{}', '{}']);
      expect((await c.query(`select who from calls order by n`)).rows.map((r) => r.who)).toEqual(['ok', 'after']);
      await c.query('delete from calls');
    } finally {
      await c.end();
    }
  });

  it('reports a statement that cannot be prepared, and prepares it again on the next call', async () => {
    const c = await connect();
    const admin = await connect();
    const missing = new PreparedStatement('t_later', 'select from t_later($1)');
    try {
      const err = await callPrepared(c, missing, ['x']).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(pg.DatabaseError);
      expect(err).toMatchObject({ code: '42883' });
      expect(String((err as Error).message)).toMatch(/function t_later\(unknown\) does not exist/);
      // Neither parsed nor pending: the next call sends Parse again.
      const conn = (c as unknown as { connection: { parsedStatements: object; submittedNamedStatements: object } }).connection;
      expect(conn.parsedStatements).not.toHaveProperty('t_later');
      expect(conn.submittedNamedStatements).not.toHaveProperty('t_later');
      await admin.query(`create function t_later(p text) returns void language sql as $$ insert into calls (who) values (p) $$`);
      await callPrepared(c, missing, ['later']);
      expect((await c.query(`select who from calls`)).rows).toEqual([{ who: 'later' }]);
      // One name, one text per connection (the driver's own rule).
      const other = new PreparedStatement('t_later', 'select 1');
      await expect(callPrepared(c, other, [])).rejects.toThrow(/Prepared statements must be unique - 't_later'/);
      await c.query('select 1');
      await c.query('delete from calls');
    } finally {
      await c.end();
      await admin.end();
    }
  });

  it('rejects with a connection error when the connection drops mid-call', async () => {
    const c = await connect();
    c.on('error', () => {});
    const admin = await connect();
    try {
      const call = callPrepared(c, CALL, ['sleep', '{}', '{}']).catch((e: unknown) => e);
      // Wait until the call runs on the server, then end its backend.
      for (let i = 0; ; i++) {
        const r = await admin.query(
          `select pid from pg_stat_activity where query like 'select from t_call%' and state = 'active'`,
        );
        if (r.rows.length === 1) {
          await admin.query('select pg_terminate_backend($1)', [r.rows[0].pid]);
          break;
        }
        if (i > 500) throw new Error('the call never ran');
        await new Promise((r) => setTimeout(r, 10));
      }
      const err = await call;
      expect(err).toBeInstanceOf(Error);
      expect(isConnectionError(err)).toBe(true);
      // The driver refuses further queries on it at once (and the store replaces it).
      await expect(callPrepared(c, CALL, ['x', '{}', '{}'])).rejects.toThrow(/not queryable|terminat/i);
    } finally {
      await c.end().catch(() => {});
      await admin.end();
    }
  });

  it('writes array literals PostgreSQL reads back element for element', () => {
    expect(textArrayLiteral([])).toBe('{}');
    expect(textArrayLiteral(['a', 'b'])).toBe('{"a","b"}');
    expect(textArrayLiteral(['say "hi"', 'c:\\x'])).toBe('{"say \\"hi\\"","c:\\\\x"}');
  });
});
