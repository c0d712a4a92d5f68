/**
 * Event subscriptions: replay the log after a seq, then stream live events, with no gap and no
 * duplicate at the seam. Runs executed in this process are published to the hub right after
 * their commit; runs executed by another process (PostgreSQL) are fed from the log when a
 * notification says new events were committed (`remoteEvents`). A read of the log that fails —
 * the replay, or a later read of another process's events — ends the subscription with
 * `REPLAY_FAILED` and the seq to resume after; it never goes on with a gap or silently stalls.
 */
import { type ErrorInfo, type RunEvent, toErrorInfo } from '@trellis/core';
import type { RunStore } from '@trellis/store';
import type { SubscribeOptions, Subscription } from '../engine.ts';
import { type EventHub, TERMINAL_EVENT_TYPES } from '../events/hub.ts';
import type { EngineLogger } from './engine.ts';

/**
 * The error a subscriber gets when a run's stored events cannot be read: `REPLAY_FAILED`, with
 * the seq to resume after. The cause is named by its code only (its text may carry internals;
 * the log has it).
 */
export function replayFailure(runId: string, resumeAfter: number, cause: unknown): ErrorInfo {
  const why = toErrorInfo(cause).code;
  return {
    code: 'REPLAY_FAILED',
    message: `the stored events of run ${runId} could not be read (${why}); subscribe again with after=${resumeAfter}`,
    retryable: true,
    details: { resumeAfter, cause: why },
  };
}

export class Subscriptions {
  /** This process's subscribers, per run: each one's position, and how to end it on a failed read. */
  private readonly positions = new Map<string, Set<{ last: number; fail(err: unknown): void }>>();
  /** One log read at a time per run, for runs executed elsewhere. */
  private readonly remoteReads = new Map<string, Promise<void>>();

  constructor(
    private readonly hub: EventHub,
    private readonly store: RunStore,
    private readonly logger: EngineLogger,
  ) {}

  subscribe(runId: string, options: SubscribeOptions): Subscription {
    let closed = false;
    const pos = {
      last: options.after,
      /**
       * Going on after a failed read of the log would hide the events it could not give: the
       * subscriber is told, with the position to resume from, and gets nothing more.
       */
      fail: (err: unknown) => {
        buffered.length = 0;
        if (closed) return;
        closed = true;
        detach();
        options.onError?.(replayFailure(runId, pos.last, err));
      },
    };
    let replaying = true;
    const buffered: RunEvent[] = [];
    const positions = this.positions;
    let mine = positions.get(runId);
    if (!mine) {
      mine = new Set();
      positions.set(runId, mine);
    }
    mine.add(pos);
    const detach = () => {
      off();
      mine.delete(pos);
      if (mine.size === 0 && positions.get(runId) === mine) positions.delete(runId);
    };
    const deliver = (e: RunEvent) => {
      if (closed || e.seq <= pos.last) return;
      pos.last = e.seq;
      options.onEvent(e);
      if (TERMINAL_EVENT_TYPES.has(e.type)) {
        closed = true;
        detach();
        options.onEnd?.();
      }
    };
    // Attach to the live feed first (buffering), then replay the log, then drain the buffer:
    // anything committed while we replay is in the buffer, and seq filtering drops overlaps.
    const off = this.hub.on(runId, (e) => {
      if (replaying) buffered.push(e);
      else deliver(e);
    });
    void (async () => {
      try {
        for (;;) {
          const page = await this.store.readEvents(runId, pos.last, 1000);
          for (const e of page) deliver(e);
          if (page.length < 1000 || closed) break;
        }
      } catch (err) {
        // Going live from here would skip what the log could not give.
        this.logger.error('event replay failed', { runId, error: toErrorInfo(err).message });
        pos.fail(err);
        return;
      }
      replaying = false;
      for (const e of buffered.splice(0)) deliver(e);
    })();
    return {
      close() {
        closed = true;
        detach();
      },
    };
  }

  /**
   * Notifications of new events may have been missed (the listening connection dropped): read
   * the log of every run followed here that `remote` says another process executes, up to its end.
   */
  catchUp(remote: (runId: string) => boolean): void {
    for (const runId of [...this.positions.keys()]) if (remote(runId)) this.remoteEvents(runId, Number.POSITIVE_INFINITY);
  }

  /**
   * Another process committed events of `runId` up to `seq`. If anyone here listens, read the
   * log from the position of the furthest-behind subscriber (one read at a time per run) and
   * publish: each subscriber drops what it already has, so none sees a gap or a duplicate.
   */
  remoteEvents(runId: string, seq: number): void {
    const behind = () => {
      const set = this.positions.get(runId);
      if (!set || set.size === 0) return undefined;
      let min = Number.POSITIVE_INFINITY;
      for (const p of set) min = Math.min(min, p.last);
      return min;
    };
    const first = behind();
    if (first === undefined || first >= seq) return;
    const prev = this.remoteReads.get(runId) ?? Promise.resolve();
    const next = prev.then(async () => {
      for (;;) {
        const from = behind();
        if (from === undefined || from >= seq) return;
        const page = await this.store.readEvents(runId, from, 1000);
        for (const e of page) this.hub.publish(e, 'remote');
        if (page.length < 1000) return;
      }
    });
    const tracked: Promise<void> = next
      .catch((err) => {
        // The subscribers of the run would wait for events that never come (or, were a later
        // read to work, only by luck): each is told, with its own position to resume from.
        this.logger.error('reading remote events failed', { runId, error: toErrorInfo(err).message });
        for (const sub of [...(this.positions.get(runId) ?? [])]) sub.fail(err);
      })
      .finally(() => {
        if (this.remoteReads.get(runId) === tracked) this.remoteReads.delete(runId);
      });
    this.remoteReads.set(runId, tracked);
  }
}
