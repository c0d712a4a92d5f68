/**
 * One process serves a SQLite database at a time. `trellis serve` (and `trellis run --db`) take
 * this lock before they change anything — before migrations, recovery, demo registration or
 * seeding — so a second start on the same database fails with a clear message and leaves the
 * running server untouched.
 *
 * The lock is a file beside the database (`<db>.lock`) created exclusively and holding the owner's
 * pid and host. A lock whose process is gone (killed, crashed) is stale and taken over, so a
 * crash never needs manual cleanup. PostgreSQL needs no lock: many servers and workers share it
 * by design (claims, leases and fencing).
 */
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { TrellisError } from '@trellis/core';
import { isPostgresUrl } from './postgres.ts';

export interface InstanceLock {
  /** The lock file, or undefined when no lock is needed (PostgreSQL, `:memory:`). */
  readonly path: string | undefined;
  release(): void;
}

interface LockOwner {
  pid: number;
  host: string;
  what: string;
  startedAt: string;
}

/** Thrown when another live process holds the database. `details` carries the owner. */
export class DatabaseInUseError extends TrellisError {
  constructor(
    message: string,
    readonly owner: LockOwner,
  ) {
    super('DATABASE_IN_USE', message, { category: 'user', details: owner });
    this.name = 'DatabaseInUseError';
  }
}

/** Locks this process holds (two servers in one process — tests, embedders — are refused too). */
const HELD = new Map<string, LockOwner>();

/**
 * True while `pid` is a running process. A process killed a moment ago still answers signal 0
 * while the kernel tears it down and, once dead, until its parent reaps it (a zombie): on Linux
 * its state in /proc says so (`Z` zombie, `X` dead), and it counts as gone.
 */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').pop()?.[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no /proc (not Linux): signal 0 is the answer
  }
}

/**
 * `alive`, asked again for up to half a second before saying yes: a server killed just before
 * a restart (`kill -9` then `trellis serve`) may still be exiting, and is not a reason to refuse.
 */
function stillAlive(pid: number): boolean {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < 10; i++) {
    if (!alive(pid)) return false;
    Atomics.wait(pause, 0, 0, 50);
  }
  return alive(pid);
}

function readOwner(path: string): LockOwner | undefined {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockOwner>;
    return typeof v.pid === 'number' ? (v as LockOwner) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the lock on `target` for `what` (e.g. "trellis serve on http://127.0.0.1:8080"), or throws
 * DatabaseInUseError naming the process that holds it.
 */
export function acquireInstanceLock(target: string, what: string): InstanceLock {
  if (isPostgresUrl(target) || target === ':memory:' || target === '') return { path: undefined, release: () => {} };
  const path = `${resolve(target)}.lock`;
  const me: LockOwner = { pid: process.pid, host: hostname(), what, startedAt: new Date().toISOString() };
  try {
    mkdirSync(dirname(path), { recursive: true }); // the database's folder (created on first start anyway)
  } catch {
    // not creatable: opening the database reports why
    return { path: undefined, release: () => {} };
  }
  const mine = HELD.get(path);
  if (mine) {
    throw new DatabaseInUseError(
      `the database ${target} is in use by ${mine.what} in this process; close it first or pass another database`,
      mine,
    );
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = readOwner(path);
      // Held by a live process on this host: refuse. A lock from another host (a shared folder)
      // cannot be checked, so it is respected too. Our own pid in the file (and not in HELD) is
      // a previous life of a process with a reused pid (pid 1 in containers): stale.
      if (owner && owner.pid !== process.pid && (owner.host !== me.host || stillAlive(owner.pid))) {
        throw new DatabaseInUseError(
          `the database ${target} is in use by ${owner.what} (pid ${owner.pid}${owner.host !== me.host ? ` on ${owner.host}` : ''}, since ${owner.startedAt}); stop that process, use it, or pass another --db (if that process is gone, delete ${path})`,
          owner,
        );
      }
      // Stale (its process is gone) or unreadable (a crash while writing it): take it over.
      try {
        unlinkSync(path);
      } catch {
        // another starter removed it first; try again
      }
      continue;
    }
    writeSync(fd, JSON.stringify(me));
    closeSync(fd);
    HELD.set(path, me);
    let released = false;
    return {
      path,
      release: () => {
        if (released) return;
        released = true;
        HELD.delete(path);
        if (readOwner(path)?.pid === process.pid) {
          try {
            unlinkSync(path);
          } catch {
            // already gone
          }
        }
      },
    };
  }
  throw new DatabaseInUseError(`the database ${target} is being opened by another process; try again`, me);
}
