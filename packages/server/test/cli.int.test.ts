/** The CLI commands this package backs: `trellis serve`, `trellis token`, `trellis migrate`. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateToken, isWellFormedToken, openSqlite, verifyToken } from '@trellis/store';
import { describe, expect, it } from 'vitest';
import { TRELLIS } from '../../cli/test/helpers/bin.ts';

// Each call starts Node with tsx (1–3 s on a busy 2-core machine): generous timeouts.
const SLOW = 120_000;

const env = { ...process.env, TRELLIS_ADMIN_TOKEN: '', TRELLIS_DB: '' };
const trellis = (...args: string[]) =>
  spawnSync(process.execPath, [...TRELLIS, ...args], { encoding: 'utf8', env, timeout: 60_000 });
const tmpDb = () => join(mkdtempSync(join(tmpdir(), 'trellis-cli-')), 'trellis.db');

/** Starts `trellis serve` on a free port and resolves with everything it printed until the URL line and the token block. */
function firstLines(db: string): Promise<string> {
  return new Promise((resolveOut, reject) => {
    const child = spawn(process.execPath, [...TRELLIS, 'serve', '--port', '0', '--db', db], {
      env: { ...env, TRELLIS_LOG_LEVEL: 'warn' },
    });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no banner: ${out}`));
    }, 30_000);
    child.stdout.on('data', (d) => {
      out += String(d);
      if (/Sign in to the console.*\n/.test(out)) {
        clearTimeout(timer);
        child.kill('SIGTERM');
      }
    });
    child.on('exit', () => resolveOut(out));
  });
}

describe('trellis migrate', () => {
  it(
    'applies the migrations once',
    () => {
      const db = tmpDb();
      const first = trellis('migrate', '--db', db);
      expect(first.status).toBe(0);
      expect(first.stdout).toMatch(/applied: 0001_initial, 0002_server/);
      expect(trellis('migrate', '--db', db).stdout).toMatch(/up to date/);
      expect(trellis('migrate', '--db', 'postgres://nobody@127.0.0.1:1/none').status).toBe(1);
    },
    SLOW,
  );
});

describe('trellis token', () => {
  it(
    'creates a working token shown once, lists it and revokes it',
    async () => {
      const db = tmpDb();
      const made = trellis('token', 'create', '--name', 'bob', '--db', db);
      expect(made.status).toBe(0);
      const token = made.stdout.trim();
      expect(isWellFormedToken(token)).toBe(true);
      const id = /token (tok_\S+)/.exec(made.stderr)?.[1];
      expect(id).toBeDefined();
      const admin = trellis('token', 'create', '--name', 'ops', '--admin', '--expires-days', '30', '--db', db);
      expect(admin.stderr).toMatch(/\(admin\), expires/);
      const list = trellis('token', 'list', '--db', db);
      expect(list.stdout).toMatch(/bob/);
      expect(list.stdout).not.toContain(token);
      expect(trellis('token', 'revoke', id!, '--db', db).status).toBe(0);
      expect(trellis('token', 'revoke', id!, '--db', db).status).toBe(1);
      const h = await openSqlite(db);
      try {
        expect(await verifyToken(h.db, token)).toBeUndefined();
        expect(await verifyToken(h.db, admin.stdout.trim())).toMatchObject({ name: 'ops', isAdmin: true });
      } finally {
        await h.close();
      }
    },
    SLOW,
  );

  it(
    'refuses bad usage with exit 2 and a message',
    () => {
      const noName = trellis('token', 'create', '--db', tmpDb());
      expect(noName.status).toBe(2);
      expect(noName.stderr).toMatch(/--name/);
      expect(trellis('token', 'create', '--name', 'has space', '--db', tmpDb()).status).toBe(2);
      expect(trellis('token', 'frobnicate').status).toBe(2);
    },
    SLOW,
  );
});

describe('trellis serve', () => {
  it(
    'keeps the admin token out of its output (a log): a 0600 file on the first start, a one-time link, nothing on later starts',
    async () => {
      const db = tmpDb();
      const first = await firstLines(db);
      expect(first).toMatch(/serving at http:\/\/127\.0\.0\.1:\d+/);
      // stdout is a pipe here, as under a service manager: the token is not printed.
      expect(first).not.toMatch(/trls_/);
      const file = `${db}.admin-token`;
      expect(first).toContain(file);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const token = readFileSync(file, 'utf8').trim();
      expect(isWellFormedToken(token)).toBe(true);
      // The console link carries a one-time code, never the token.
      expect(first).toMatch(
        /Sign in to the console \(one-time link, valid for 5 minutes\): http:\/\/127\.0\.0\.1:\d+\/#code=trsi_\w{24}\n/,
      );
      const second = await firstLines(db);
      expect(second).not.toMatch(/trls_|#code=|#token=/);
      expect(second).not.toContain(token);
      expect(second).toMatch(/with an API token/);
      const h = await openSqlite(db);
      try {
        expect(await verifyToken(h.db, token)).toMatchObject({ name: 'admin', isAdmin: true });
      } finally {
        await h.close();
      }
    },
    SLOW,
  );

  it(
    'refuses bad options with exit 2',
    () => {
      expect(trellis('serve', '--port', 'abc').status).toBe(2);
      expect(trellis('serve', '--db', 'postgres://nobody@127.0.0.1:1/none').status).toBe(1);
      expect(trellis('serve', '--bogus').status).toBe(2);
    },
    SLOW,
  );

  it(
    'refuses to start with a TRELLIS_ADMIN_TOKEN whose checksum is wrong, saying so',
    () => {
      const good = generateToken();
      const bad = `${good.slice(0, -1)}${good.endsWith('A') ? 'B' : 'A'}`;
      const r = spawnSync(process.execPath, [...TRELLIS, 'serve', '--port', '0', '--db', tmpDb()], {
        encoding: 'utf8',
        env: { ...env, TRELLIS_ADMIN_TOKEN: bad },
        timeout: 60_000,
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/TRELLIS_ADMIN_TOKEN cannot be used: .*checksum is wrong/);
      expect(r.stderr).not.toContain(bad);
      expect(r.stdout).not.toMatch(/serving at/);
    },
    SLOW,
  );
});
