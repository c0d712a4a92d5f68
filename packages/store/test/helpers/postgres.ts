/**
 * A throwaway PostgreSQL server for a test file: `initdb` into a temporary folder, a private
 * port on 127.0.0.1, one database per test, everything stopped and removed at the end (also
 * when the test process exits early). Password authentication (scram) is on, so tests can
 * check what a wrong password does. Durability settings are off (fsync, synchronous_commit):
 * the data is thrown away, and a test must not measure the disk.
 *
 * As root (CI), PostgreSQL refuses to run, so initdb and pg_ctl run as the `postgres` OS user
 * (created when missing) and the folder is handed to that user.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { openStore } from '../../src/open.ts';
import { checkRunInvariants, formatInvariantReport, type InvariantReport } from '../../src/runs/invariants.ts';

const run = promisify(execFile);

export interface TestPostgres {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** The temporary folder holding the cluster, its log and its socket. */
  readonly dir: string;
  /** A URL for `database` (default: the maintenance database `postgres`). */
  url(database?: string): string;
  /** Creates an empty database and returns its URL. */
  createDatabase(prefix?: string): Promise<string>;
  /**
   * Checks the run invariants (packages/store/src/runs/invariants.ts) in every database this
   * server created; throws with every violation found. Call it after tests that run workflows.
   */
  checkInvariants(): Promise<InvariantReport[]>;
  /** Stops the server (fast: open connections are terminated, as in a real restart). */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server, waits `downMs` (default 0), starts it again on the same port. */
  restart(options?: { downMs?: number }): Promise<void>;
  /** Stops the server and removes its folder. Safe to call twice. */
  destroy(): Promise<void>;
}

export interface StartPostgresOptions {
  /** Extra server settings (`-c name=value`). */
  settings?: Record<string, string | number>;
}

let current: TestPostgres | undefined;

/** Restarts the server most recently started by this process (for restart tests). */
export async function restartPostgres(options?: { downMs?: number }): Promise<void> {
  if (!current) throw new Error('restartPostgres: no test PostgreSQL was started in this process');
  await current.restart(options);
}

/** The folder holding initdb and pg_ctl, or a clear error saying how to get them. */
export function findPostgresBin(path = process.env.PATH ?? '', lib = '/usr/lib/postgresql'): string {
  const candidates: string[] = [];
  for (const p of path.split(':')) if (p && existsSync(join(p, 'initdb'))) candidates.push(p);
  if (existsSync(lib)) {
    const versions = readdirSync(lib)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) if (existsSync(join(lib, v, 'bin', 'initdb'))) candidates.push(join(lib, v, 'bin'));
  }
  for (const dir of candidates) {
    const bin = dirname(realpathSync(join(dir, 'initdb')));
    if (existsSync(join(bin, 'pg_ctl'))) return bin;
  }
  throw new Error(
    'PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH or under /usr/lib/postgresql/*/bin; install them (apt-get install postgresql) to run the PostgreSQL suite',
  );
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Who runs the server: ourselves, or the `postgres` OS user when we are root. */
function serverUser(): { wrap: (cmd: string, args: string[]) => [string, string[]]; uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return { wrap: (cmd, args) => [cmd, args] };
  let ids: string;
  try {
    ids = execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  } catch {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/bin/sh', 'postgres']);
    ids = execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  }
  const uid = Number(ids.trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { wrap: (cmd, args) => ['runuser', ['-u', 'postgres', '--', cmd, ...args]], uid, gid };
}

/** initdb once, start on a free port. Call in `beforeAll`; `destroy()` in `afterAll`. */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<TestPostgres> {
  const bin = findPostgresBin();
  const who = serverUser();
  const dir = mkdtempSync(join(tmpdir(), 'trellis-pg-'));
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const pwfile = join(dir, 'pw');
  const password = `pw${Math.random().toString(36).slice(2)}`;
  writeFileSync(pwfile, `${password}\n`);
  if (who.uid !== undefined && who.gid !== undefined) {
    chownSync(dir, who.uid, who.gid);
    chownSync(pwfile, who.uid, who.gid);
  }
  const exec = async (cmd: string, args: string[]): Promise<string> => {
    const [c, a] = who.wrap(join(bin, cmd), args);
    try {
      const { stdout } = await run(c, a, { cwd: dir, timeout: 120_000 });
      return stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-15).join('\n') : '';
      throw new Error(`${cmd} failed: ${e.stderr?.trim() || e.message}${tail ? `\nserver log:\n${tail}` : ''}`);
    }
  };

  await exec('initdb', [
    '-D',
    data,
    '-U',
    'postgres',
    `--pwfile=${pwfile}`,
    '--auth=scram-sha-256',
    '-E',
    'UTF8',
    '--no-locale',
    '--no-sync',
  ]);
  const port = await freePort();
  const settings: Record<string, string | number> = {
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_connections: 200,
    ...options.settings,
  };
  const serverOpts = [
    `-p ${port}`,
    '-h 127.0.0.1',
    `-k ${dir}`,
    ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`),
  ].join(' ');

  let running = false;
  let destroyed = false;
  const start = async () => {
    await exec('pg_ctl', ['-D', data, '-l', log, '-w', '-t', '60', '-o', serverOpts, 'start']);
    running = true;
  };
  const stop = async () => {
    if (!running) return;
    await exec('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop']);
    running = false;
  };
  // The test process may end without afterAll (a crash, a timeout): never leave a server behind.
  const onExit = () => {
    if (destroyed) return;
    try {
      if (running) {
        const [c, a] = who.wrap(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
        execFileSync(c, a, { stdio: 'ignore', timeout: 30_000 });
      }
    } catch {
      // best effort on exit
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  await start();
  const url = (database = 'postgres') => `postgres://postgres:${password}@127.0.0.1:${port}/${database}`;
  let counter = 0;
  const databases: string[] = [];
  const server: TestPostgres = {
    host: '127.0.0.1',
    port,
    user: 'postgres',
    password,
    dir,
    url,
    createDatabase: async (prefix = 't') => {
      const name = `${prefix.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${++counter}_${Math.random().toString(36).slice(2, 8)}`;
      const client = new pg.Client({ connectionString: url() });
      await client.connect();
      try {
        await client.query(`create database "${name}"`);
      } finally {
        await client.end();
      }
      databases.push(name);
      return url(name);
    },
    checkInvariants: async () => {
      const reports: InvariantReport[] = [];
      const failures: string[] = [];
      for (const name of databases) {
        const store = await openStore(url(name), { migrate: false });
        try {
          const tables = await store.db.introspection.getTables();
          if (!tables.some((t) => t.name === 'runs')) continue; // not a Trellis database (yet)
          const report = await checkRunInvariants(store.db);
          reports.push(report);
          if (!report.ok) failures.push(`database ${name}: ${formatInvariantReport(report)}`);
        } finally {
          await store.close();
        }
      }
      if (failures.length > 0) throw new Error(`run invariants violated\n${failures.join('\n')}`);
      return reports;
    },
    stop,
    start,
    restart: async (opts = {}) => {
      await stop();
      if (opts.downMs) await new Promise((r) => setTimeout(r, opts.downMs));
      await start();
    },
    destroy: async () => {
      if (destroyed) return;
      try {
        await stop();
      } finally {
        destroyed = true;
        process.removeListener('exit', onExit);
        rmSync(dir, { recursive: true, force: true });
        if (current === server) current = undefined;
      }
    },
  };
  current = server;
  return server;
}
