/**
 * One process per SQLite database: a live owner is refused with DATABASE_IN_USE; an owner that
 * is gone — never there, or SIGKILLed a moment ago and not yet reaped — is stale and taken over,
 * so a restart right after `kill -9` works.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireInstanceLock } from '../src/index.ts';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

/** A lock file as another process would have written it. */
function lockedBy(pid: number): string {
  const db = join(mkdtempSync(join(tmpdir(), 'trellis-lock-')), 'trellis.db');
  writeFileSync(`${db}.lock`, JSON.stringify({ pid, host: hostname(), what: 'trellis serve (test)', startedAt: 'then' }));
  return db;
}

async function sleeper(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', 'console.log("up"); setInterval(() => {}, 1000)'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  children.push(child);
  await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  return child;
}

describe('instance lock', () => {
  it('refuses while the owner runs, naming it', async () => {
    const owner = await sleeper();
    const db = lockedBy(owner.pid!);
    expect(() => acquireInstanceLock(db, 'trellis serve (second)')).toThrow(
      expect.objectContaining({ code: 'DATABASE_IN_USE', message: expect.stringContaining(`pid ${owner.pid}`) }),
    );
  });

  it('takes over from an owner SIGKILLed a moment ago (still exiting or not yet reaped)', async () => {
    const owner = await sleeper();
    const db = lockedBy(owner.pid!);
    owner.kill('SIGKILL');
    // At once, before this process's event loop can reap the child.
    const lock = acquireInstanceLock(db, 'trellis serve (restart)');
    expect(JSON.parse(readFileSync(`${db}.lock`, 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('takes over from an owner that is gone', () => {
    const db = lockedBy(2 ** 22 + 12345); // above Linux's largest pid
    const lock = acquireInstanceLock(db, 'trellis serve');
    expect(JSON.parse(readFileSync(`${db}.lock`, 'utf8')).pid).toBe(process.pid);
    lock.release();
  });
});
