/**
 * "New events" notifications (`trellis_events`), at most one per window per engine.
 *
 * Every notification wakes every listening process and its database backend, and makes the
 * committing transaction take PostgreSQL's notification-queue lock. A chain of tool nodes
 * commits once per step (about every millisecond), so one notification per commit would cost
 * each listener a wake-up per step although a watcher only needs to learn "read again".
 * Instead:
 *
 * - the first commit after a quiet window carries the notification (in its transaction, as
 *   before: delivered only if, and after, its data committed), together with every run that
 *   was waiting to be announced;
 * - commits inside the window carry none; once they have committed, their runs wait here, and
 *   the next commit after the window carries them, or, when none comes, a notification of
 *   their own is sent (their data is committed already);
 * - that notification of their own waits one window more while commits are still flowing
 *   (one began in the last window): the next commit carries it, at no cost. Sent at the
 *   window's end regardless, it cost a round trip on the pool and a wake-up of every listener
 *   every window (in a chain of tool nodes, one per ten steps, each ~0.1 ms of engine and of
 *   database CPU), because a commit hardly ever starts in the instant after the window ends.
 *
 * A watcher in another process therefore learns of committed events at most two windows late
 * (one while commits flow), never before they are visible. Time here is the process's own (not the engine's clock,
 * which tests may hold still): it paces I/O, not workflow time.
 */
import type { Notification } from '@trellis/store/internal';
import { eventsNotifications } from './leasing.ts';

/** How long commits of one engine share one notification (ms). */
export const EVENTS_NOTIFY_WINDOW_MS = 10;

export class EventsNotifier {
  private last = Number.NEGATIVE_INFINITY;
  /** Committed, not yet announced: run id → newest seq. */
  private pending = new Map<string, number>();
  /** What the commit in flight carries (restored if that commit fails). */
  private carried: Map<string, number> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** When the last commit began (its `take`). */
  private lastTake = Number.NEGATIVE_INFINITY;
  /** The timer has waited one window more already for a commit to carry what waits. */
  private deferred = false;

  constructor(
    private readonly send: (notifications: readonly Notification[]) => Promise<void>,
    private readonly onError: (err: unknown) => void,
    private readonly windowMs = EVENTS_NOTIFY_WINDOW_MS,
  ) {}

  /**
   * The notifications a commit whose runs reach these newest seqs carries: none inside the
   * window. Call `settle` with the same arguments once the commit has succeeded or failed.
   */
  take(newest: ReadonlyMap<string, number>): Notification[] {
    const now = performance.now();
    this.lastTake = now;
    if (newest.size === 0 && this.pending.size === 0) return [];
    if (now - this.last < this.windowMs) return [];
    this.last = now;
    this.cancelTimer();
    const all = this.pending;
    this.carried = new Map(all);
    for (const [id, seq] of newest) all.set(id, Math.max(seq, all.get(id) ?? 0));
    this.pending = new Map();
    return eventsNotifications(all);
  }

  /** After the commit: runs it committed without announcing them wait for the next notification. */
  settle(newest: ReadonlyMap<string, number>, carried: readonly Notification[], committed: boolean): void {
    if (carried.length > 0) {
      // Runs committed earlier still need their notification when this commit failed.
      if (!committed && this.carried) this.merge(this.carried);
      this.carried = undefined;
    } else if (committed) {
      this.merge(newest);
    }
    this.arm();
  }

  /** Sends what is waiting now (at shutdown, after the last commit). */
  async flush(): Promise<void> {
    this.cancelTimer();
    if (this.pending.size === 0) return;
    const all = this.pending;
    this.pending = new Map();
    this.last = performance.now();
    await this.send(eventsNotifications(all)).catch(this.onError);
  }

  private merge(from: ReadonlyMap<string, number>): void {
    for (const [id, seq] of from) this.pending.set(id, Math.max(seq, this.pending.get(id) ?? 0));
  }

  private arm(wait = Math.max(0, this.last + this.windowMs - performance.now())): void {
    if (this.timer || this.pending.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.deferred && performance.now() - this.lastTake < this.windowMs) {
        // Commits are flowing: the next one carries what waits.
        this.deferred = true;
        this.arm(this.windowMs);
        return;
      }
      void this.flush();
    }, wait);
    this.timer.unref();
  }

  private cancelTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.deferred = false;
  }
}
