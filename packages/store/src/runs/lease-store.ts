/**
 * Many workers, one database: what a worker needs beyond `RunStore` to share runs safely.
 *
 * Terminology:
 * - **worker**: a process that executes runs, named by a `workerId` unique per process start.
 * - **lease**: `runs.worker_id` + `runs.lease_expires_at`. A worker owns a run while its lease
 *   is unexpired; it renews leases by heartbeat. A NULL lease counts as expired ("never
 *   heartbeated"), so a run nobody renews is always reclaimable.
 * - **claim**: taking runs that need a worker (`FOR UPDATE SKIP LOCKED`, so two workers never
 *   take the same run), timed by the database's clock, not the caller's.
 * - **fence**: a commit that first locks the runs it touches and checks the lease is still this
 *   worker's. A stale worker (paused, partitioned, presumed dead) commits nothing.
 * - **notification**: a `pg_notify` sent inside the committing transaction (an outbox): it is
 *   delivered only if the transaction commits, and never before.
 */
import { TrellisError } from '@trellis/core';
import { type RunWriteOp, writeRunId } from './mapping.ts';

/** A notification to send when (and only if) a fenced commit commits. */
export interface Notification {
  /** A channel name (PostgreSQL identifier rules; at most 63 bytes). */
  channel: string;
  /** At most 7,900 bytes (PostgreSQL's limit is 8,000): send ids, not documents. */
  payload: string;
}

export interface Subscription {
  close(): Promise<void>;
}

/**
 * Called for each notification. After the listening connection was lost and re-established,
 * called once with (`RECONNECTED`, '') — anything sent while it was down was missed, so the
 * caller should re-scan (claim, read events after its last seq).
 */
export type NotificationHandler = (channel: string, payload: string) => void;

/** The synthetic channel a listener reports after reconnecting. */
export const RECONNECTED = 'reconnected';

/** Channels the store itself notifies on. */
export const CHANNELS = {
  /** A cancel was requested; payload: the run id. */
  cancel: 'trellis_cancel',
} as const;

export interface RunLeaseStore {
  /**
   * Claims up to `limit` runs that need a worker and leases them to `workerId` for `leaseMs`:
   * queued or running runs with no live lease, and waiting runs with no live lease that have
   * something to do (a recorded but unapplied gate decision, a due gate timeout, a passed run
   * deadline, a requested cancel). Returns the claimed run ids; concurrent claimers never get
   * the same run. The ids come in no particular order.
   */
  claimRuns(workerId: string, leaseMs: number, limit: number): Promise<string[]>;
  /**
   * `claimRuns` restricted to new runs (queued, never claimed or given back): what a "new run"
   * wake-up can be about. It reads only an index of those, not the runs in flight elsewhere, so
   * the workers a wake-up reaches in vain cost the database little. A queued run whose lease
   * lapsed is left to `claimRuns`. Same guarantees.
   */
  claimQueuedRuns(workerId: string, leaseMs: number, limit: number): Promise<string[]>;
  /**
   * Extends the leases `workerId` still holds on `runIds` to now + `leaseMs`. Returns the ids
   * it no longer holds (another worker reclaimed them): stop working on those.
   */
  renewLeases(workerId: string, runIds: readonly string[], leaseMs: number): Promise<string[]>;
  /** Gives a run back (clears its lease) if `workerId` holds it; true when it did. */
  releaseRun(workerId: string, runId: string): Promise<boolean>;
  /**
   * Like `RunStore.commit`, in one transaction that first locks every run the ops touch and
   * checks `workerId` holds an unexpired lease on each. If not, nothing is written, nothing is
   * notified, and it throws `LeaseLostError`. `notify` is sent only if the commit commits.
   */
  commitFenced(workerId: string, ops: readonly RunWriteOp[], notify?: readonly Notification[]): Promise<void>;
  /** Listens on `channels` on a dedicated connection that reconnects after a drop or a restart. */
  listen(channels: readonly string[], handler: NotificationHandler): Promise<Subscription>;
  /** Marks a non-terminal run for cancellation and notifies `CHANNELS.cancel`; false when terminal or unknown. */
  requestCancel(runId: string): Promise<boolean>;
  /** Sends a plain notification (committed at once). */
  wake(channel: string, payload: string): Promise<void>;
}

/** A fenced commit found a lease gone: the worker must drop those runs (another owns them now). */
export class LeaseLostError extends TrellisError {
  constructor(
    readonly workerId: string,
    /** The runs of the batch this worker no longer holds (drop them; the others are still its own). */
    readonly runIds: readonly string[],
    message: string,
    cause?: unknown,
  ) {
    super('LEASE_LOST', message, { category: 'system', details: { workerId, runIds }, cause });
    this.name = 'LeaseLostError';
  }
}

/** The distinct run ids a batch of operations writes to (what a fenced commit must hold). */
export function runIdsOf(ops: readonly RunWriteOp[]): string[] {
  const ids = new Set<string>();
  for (const op of ops) ids.add(writeRunId(op));
  // Sorted: PostgreSQL's fence locks the runs in this order, the order of their key (ids are
  // ASCII, so code-unit order is the key's byte order), as a heartbeat's UPDATE does.
  return ids.size > 1 ? [...ids].sort() : [...ids];
}

/** Checks a notification fits PostgreSQL's limits, with a message saying what to change. */
export function checkNotification(n: Notification): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(n.channel))
    throw new TrellisError('INVALID_CHANNEL', `channel "${n.channel}" must be letters, digits and _ (at most 63)`, {
      category: 'user',
    });
  if (Buffer.byteLength(n.payload, 'utf8') > 7900)
    throw new TrellisError('PAYLOAD_TOO_LARGE', `a notification payload is at most 7,900 bytes; send an id and read the rest`, {
      category: 'user',
    });
}
