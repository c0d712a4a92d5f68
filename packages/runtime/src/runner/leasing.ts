/**
 * Many workers, one database (PostgreSQL). A worker *claims* runs that need one (new, orphaned
 * by a dead worker, or woken by a decision, a timeout or a cancel), holds each by a *lease* it
 * renews by heartbeat, and commits only through a *fenced* commit that fails if the lease is
 * gone — so a stale worker's late result changes nothing. Notifications (LISTEN/NOTIFY) carry
 * wake-ups and "new events for run X" across processes; a periodic claim catches anything a
 * notification missed (a dropped connection reports `reconnected`).
 */
import { CHANNELS, RECONNECTED, type RunLeaseStore } from '@trellis/store';
import type { Clock, TimerHandle } from '../clock.ts';
import type { EngineLogger } from './engine.ts';

/**
 * Channel for "runs X, Y… have committed events up to seq N, M…": payload `runId:seq`, several
 * joined by commas (one notification per commit, not one per run: each notification wakes every
 * listening process and its database backend).
 */
export const EVENTS_CHANNEL = 'trellis_events';
/** A notification's payload stays under PostgreSQL's 8,000-byte limit. */
const MAX_EVENTS_PAYLOAD = 7000;

/** The events notifications for runs' newest committed seqs: as few as fit the payload limit. */
export function eventsNotifications(newest: ReadonlyMap<string, number>): { channel: string; payload: string }[] {
  const out: { channel: string; payload: string }[] = [];
  let payload = '';
  for (const [id, seq] of newest) {
    const part = `${id}:${seq}`;
    if (payload && payload.length + part.length + 1 > MAX_EVENTS_PAYLOAD) {
      out.push({ channel: EVENTS_CHANNEL, payload });
      payload = '';
    }
    payload = payload ? `${payload},${part}` : part;
  }
  if (payload) out.push({ channel: EVENTS_CHANNEL, payload });
  return out;
}
/** Channel for "run X has something to do" (a decision; payload: the run id, or empty). */
export const WAKE_CHANNEL = 'trellis_wake';

export interface LeasingOptions {
  store: RunLeaseStore;
  /** How long a lease lasts without a heartbeat (default 15 s): a dead worker's runs are reclaimed after at most this plus one claim interval. */
  leaseMs?: number;
  /** How often to look for claimable runs besides notifications (default 1 s). */
  claimIntervalMs?: number;
  /** Runs claimed per round (default 20), so that several workers share a burst of new runs. */
  claimBatch?: number;
  /** Runs this worker holds at most (default 1000); it claims no more beyond that. */
  maxRuns?: number;
  /**
   * False for a process that serves the API but executes nothing (runs it starts are left for
   * the workers, woken by a notification). Default true.
   */
  execute?: boolean;
}

export interface LeasedEngineHooks {
  hotIds(): string[];
  isHot(runId: string): boolean;
  /**
   * The runs whose leases the heartbeat renews: held in memory and not finished. A finished
   * run's last commit gives its lease back; renewing it would wait for that commit's row locks
   * and then find the lease gone.
   */
  heldIds(): string[];
  /** True while this worker holds the run in memory and it has not finished. */
  holds(runId: string): boolean;
  /** Load (rebuild) a claimed run and carry on with it. */
  adopt(runId: string): Promise<void>;
  /** The lease is gone: forget the run without writing anything. */
  drop(runId: string): void;
  /** A cancel was requested for a run this worker holds. */
  cancelRequested(runId: string): void;
  /** Something may be waiting for a run this worker holds (a decision). */
  woken(runId: string): void;
  /** Another process committed events of a run. */
  remoteEvents(runId: string, seq: number): void;
  /** Notifications may have been missed (the listening connection was down): catch subscribers up. */
  missedEvents(): void;
}

export class Leasing {
  readonly store: RunLeaseStore;
  readonly leaseMs: number;
  private readonly claimIntervalMs: number;
  private readonly claimBatch: number;
  private readonly maxRuns: number;
  private heartbeatTimer: TimerHandle | undefined;
  private claimTimer: TimerHandle | undefined;
  private listener: { close(): Promise<void> } | undefined;
  private claiming: Promise<void> | undefined;
  /** Claimed runs being loaded (adopted), and how many. */
  private readonly adopting = new Set<Promise<void>>();
  private loading = 0;
  private claimAgain = false;
  /** The next claim round looks for everything claimable, not only new runs. */
  private claimAll = true;
  private stopped = false;
  private lastRenewOk: number;
  /** The "new runs" wake-up being sent, and the one that follows it (shared by every caller meanwhile). */
  private wakeSending: Promise<void> | undefined;
  private wakeNext: Promise<void> | undefined;
  readonly execute: boolean;

  constructor(
    options: LeasingOptions,
    private readonly workerId: string,
    private readonly clock: Clock,
    private readonly hooks: LeasedEngineHooks,
    private readonly logger: EngineLogger,
  ) {
    this.store = options.store;
    this.leaseMs = options.leaseMs ?? 15_000;
    this.claimIntervalMs = options.claimIntervalMs ?? 1000;
    this.claimBatch = options.claimBatch ?? 20;
    this.maxRuns = options.maxRuns ?? 1000;
    this.execute = options.execute ?? true;
    this.lastRenewOk = clock.now();
  }

  async start(): Promise<void> {
    this.listener = await this.store.listen([EVENTS_CHANNEL, WAKE_CHANNEL, CHANNELS.cancel], (channel, payload) =>
      this.onNotification(channel, payload),
    );
    if (!this.execute) return;
    this.armHeartbeat();
    await this.claim();
    this.armClaim();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.heartbeatTimer?.cancel();
    this.claimTimer?.cancel();
    await this.claiming;
    await Promise.all(this.adopting);
    await this.listener?.close().catch(() => {});
  }

  /**
   * Asks for a claim round soon (coalesced). `newRuns` when all there can be to claim is new
   * (queued, unleased) runs: a "new run" wake-up reaches every worker, and all but one of them
   * find nothing, so their round looks up only queued runs (an index range) instead of reading
   * every run in flight. Every other round, and the periodic one, claims everything claimable.
   */
  poke(newRuns = false): void {
    if (this.stopped || !this.execute) return;
    if (!newRuns) this.claimAll = true;
    if (this.claiming) this.claimAgain = true;
    else void this.claim();
  }

  /**
   * Wakes the workers for runs this process queued and will not execute (it executes nothing).
   * Resolves once a wake-up sent after the call has been sent, so it covers every run committed
   * before the call. One wake-up per burst: every listening worker and its database backend wake
   * for each notification, and each such worker runs a claim, so a wake-up per run made every
   * worker claim once per run, all but one in vain. While one is being sent, calls share the next
   * one (sent when the first is done): at most one in flight and one waiting, whatever the rate.
   */
  wakeForNewRuns(): Promise<void> {
    if (this.wakeNext) return this.wakeNext;
    const sending = this.wakeSending;
    if (!sending) return this.sendWake();
    // The wake-up in flight may have left before the caller's run committed: the next one covers it.
    const next = sending
      .then(
        () => {},
        () => {},
      )
      .then(() => {
        this.wakeNext = undefined;
        return this.sendWake();
      });
    this.wakeNext = next;
    return next;
  }

  private sendWake(): Promise<void> {
    const sent: Promise<void> = this.store.wake(WAKE_CHANNEL, '').finally(() => {
      if (this.wakeSending === sent) this.wakeSending = undefined;
    });
    this.wakeSending = sent;
    return sent;
  }

  release(runId: string): void {
    void this.store
      .releaseRun(this.workerId, runId)
      .catch((err) => this.logger.warn('release failed', { runId, error: String(err) }));
  }

  private onNotification(channel: string, payload: string): void {
    if (this.stopped) return;
    switch (channel) {
      case EVENTS_CHANNEL: {
        for (const part of payload.split(',')) {
          const i = part.lastIndexOf(':');
          if (i > 0) this.hooks.remoteEvents(part.slice(0, i), Number(part.slice(i + 1)));
        }
        return;
      }
      case CHANNELS.cancel:
        if (this.hooks.isHot(payload)) this.hooks.cancelRequested(payload);
        else this.poke();
        return;
      case WAKE_CHANNEL:
        // An empty payload: new runs were queued (a run or a retry started by a process that
        // executes nothing). A run id: a decision for that run.
        if (!payload) this.poke(true);
        else if (this.hooks.isHot(payload)) this.hooks.woken(payload);
        else this.poke();
        return;
      case RECONNECTED:
        // Anything notified while the connection was down was missed: look again.
        this.poke();
        for (const id of this.hooks.hotIds()) this.hooks.woken(id);
        this.hooks.missedEvents();
        return;
      default:
        return;
    }
  }

  /**
   * Claim rounds, one at a time. A round does not wait for the runs it claimed to be loaded
   * (each load waits for the commit in flight, then reads the run): a wake-up that comes
   * meanwhile claims at once, so a newly queued run is not held up behind a whole batch of
   * loads. Runs still loading count against `maxRuns`.
   */
  private claim(): Promise<void> {
    this.claiming = (async () => {
      do {
        this.claimAgain = false;
        const all = this.claimAll;
        try {
          const room = Math.min(this.claimBatch, this.maxRuns - this.hooks.hotIds().length - this.loading);
          if (room <= 0) break;
          this.claimAll = false;
          const ids = all
            ? await this.store.claimRuns(this.workerId, this.leaseMs, room)
            : await this.store.claimQueuedRuns(this.workerId, this.leaseMs, room);
          for (const id of ids) this.adopt(id);
          if (ids.length === room) {
            this.claimAgain = true;
            if (all) this.claimAll = true;
          }
        } catch (err) {
          if (all) this.claimAll = true;
          this.logger.warn('claim failed; will retry', { error: String(err) });
        }
      } while (this.claimAgain && !this.stopped);
    })().finally(() => {
      this.claiming = undefined;
    });
    return this.claiming;
  }

  private adopt(id: string): void {
    this.loading++;
    const p = this.hooks
      .adopt(id)
      .catch((err) => this.logger.error('could not adopt a claimed run', { runId: id, error: String(err) }))
      .finally(() => {
        this.loading--;
        this.adopting.delete(p);
      });
    this.adopting.add(p);
  }

  private armClaim(): void {
    if (this.stopped) return;
    this.claimTimer = this.clock.setTimeout(
      () => {
        this.poke();
        this.armClaim();
      },
      this.claimIntervalMs,
      { background: true },
    );
  }

  private armHeartbeat(): void {
    if (this.stopped) return;
    this.heartbeatTimer = this.clock.setTimeout(
      () => {
        void this.heartbeat().finally(() => this.armHeartbeat());
      },
      Math.max(50, Math.floor(this.leaseMs / 3)),
      { background: true },
    );
  }

  private async heartbeat(): Promise<void> {
    const ids = this.hooks.heldIds();
    if (ids.length === 0) {
      this.lastRenewOk = this.clock.now();
      return;
    }
    try {
      const lost = await this.store.renewLeases(this.workerId, ids, this.leaseMs);
      this.lastRenewOk = this.clock.now();
      for (const id of lost) {
        // A run that finished (its last commit gave the lease back) or was let go while the
        // renewal was on its way lost nothing: dropping it would skip what its last commit
        // still has to do here (resume a waiting parent run, cancel child runs).
        if (!this.hooks.holds(id)) continue;
        this.logger.warn('lease lost; another worker owns the run now', { runId: id });
        this.hooks.drop(id);
      }
    } catch (err) {
      // The database is unreachable. Once our leases may have expired, others may own the runs.
      if (this.clock.now() - this.lastRenewOk >= this.leaseMs) {
        this.logger.warn('cannot renew leases; dropping held runs', { error: String(err) });
        for (const id of ids) this.hooks.drop(id);
      }
    }
  }
}
