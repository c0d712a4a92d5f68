/**
 * `trellis worker` as a real process on a throwaway PostgreSQL: runs started by an API-only
 * process are executed by the workers; SIGTERM stops a worker cleanly (exit 0).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createEngine } from '@trellis/runtime';
import { createWorkflow, openStore } from '@trellis/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../../store/test/helpers/postgres.ts';
import { TRELLIS } from './helpers/bin.ts';

let pg: TestPostgres;
beforeAll(async () => {
  pg = await startPostgres();
}, 120_000);
afterAll(async () => {
  try {
    // Every run any test left behind satisfies the run invariants (nothing lost or reordered).
    await pg?.checkInvariants();
  } finally {
    await pg?.destroy();
  }
});

function startWorker(url: string): { child: ChildProcess; logs: string[]; started: Promise<void> } {
  const child = spawn(process.execPath, [...TRELLIS, 'worker', '--db', url, '--lease-ms', '2000'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const started = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      logs.push(...d.toString().trim().split('\n'));
      if (logs.some((l) => l.includes('"worker started"'))) resolve();
    });
    child.on('exit', (code) => reject(new Error(`worker exited early (${code}): ${logs.join('\n')}`)));
  });
  return { child, logs, started };
}

describe('trellis worker', () => {
  it('executes runs from the shared database and stops cleanly on SIGTERM', async () => {
    const url = await pg.createDatabase('worker');
    const store = await openStore(url);
    const api = createEngine({ store: store.runs, leasing: { store: store.leases!, execute: false } });
    await api.whenReady();
    const workers = [startWorker(url), startWorker(url)];
    try {
      await Promise.all(workers.map((w) => w.started));
      const def = {
        name: 'via-workers',
        nodes: [
          { id: 'a', type: 'transform' as const, expression: '$context.n * 2' },
          { id: 'b', type: 'transform' as const, expression: '$a + 1' },
        ],
        edges: [{ from: 'a', to: 'b' }],
      };
      const { id } = await createWorkflow(store.db, { name: def.name, definition: def, owner: 'tester' });
      const runs = await Promise.all(
        Array.from({ length: 20 }, (_, n) => api.startRun({ workflowId: id, version: 1, input: { n } })),
      );
      const recs = await Promise.all(runs.map((r) => api.waitForRun(r.runId)));
      expect(recs.map((r) => r.output)).toEqual(Array.from({ length: 20 }, (_, n) => ({ b: n * 2 + 1 })));
      for (const w of workers) {
        const exited = new Promise<number | null>((r) => w.child.on('exit', r));
        w.child.kill('SIGTERM');
        expect(await exited).toBe(0);
        expect(w.logs.some((l) => l.includes('"worker stopped"'))).toBe(true);
      }
    } finally {
      for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
      await api.shutdown(0);
      await store.close();
    }
  });

  it('trellis serve on PostgreSQL shows the database URL without its password', async () => {
    const url = await pg.createDatabase('banner');
    const child = spawn(process.execPath, [...TRELLIS, 'serve', '--db', url, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let stuck = false;
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
    });
    child.stderr!.on('data', (d: Buffer) => {
      out += d;
    });
    try {
      await new Promise<void>((resolve, reject) => {
        // Says what the server printed if it never gets to its banner (not a bare test timeout).
        const late = setTimeout(() => {
          clearInterval(t);
          reject(new Error(`no banner after 60 s; the server printed: ${out}`));
        }, 60_000);
        const t = setInterval(() => {
          if (out.includes('Database: ')) {
            clearInterval(t);
            clearTimeout(late);
            resolve();
          }
        }, 50);
        child.on('exit', (code) => {
          clearInterval(t);
          clearTimeout(late);
          reject(new Error(`serve exited early (${code}): ${out}`));
        });
      });
      const banner = out.split('\n').find((l) => l.startsWith('Database: '))!;
      expect(banner).toBe(`Database: postgres://postgres:***@${pg.host}:${pg.port}/${new URL(url).pathname.slice(1)}`);
      expect(out).not.toContain(pg.password);
    } finally {
      const exited = new Promise((r) => (child.exitCode !== null ? r(null) : child.on('exit', r)));
      child.kill('SIGTERM');
      // A graceful stop has 10 s of grace; past 20 s, say so with what it printed, and kill it.
      const slow = setTimeout(() => {
        stuck = true;
        child.kill('SIGKILL');
      }, 20_000);
      await exited;
      clearTimeout(slow);
    }
    expect(stuck, `serve did not stop within 20 s of SIGTERM; it printed: ${out}`).toBe(false);
  }, 90_000);

  it('refuses a SQLite path and a missing --db with exit 2', async () => {
    const run = (args: string[]) =>
      new Promise<number | null>((r) =>
        spawn(process.execPath, [...TRELLIS, 'worker', ...args], { stdio: 'ignore', env: { ...process.env, TRELLIS_DB: '' } }).on(
          'exit',
          r,
        ),
      );
    expect(await run(['--db', 'local.db'])).toBe(2);
    expect(await run([])).toBe(2);
    expect(await run(['--db', 'postgres://x@127.0.0.1:1/db', '--lease-ms', 'soon'])).toBe(2);
  }, 90_000); // three processes, each loading the sources through tsx
});
