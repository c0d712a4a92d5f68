/**
 * Replay with backpressure, then follow. A client (re)connecting to a run first receives the
 * stored events after its `after`, read in pages and written only as fast as its socket drains —
 * so a fast client catches up on any backlog, however large the events. Only then does it
 * subscribe to the live feed (the engine's subscribe is gap-free from the last replayed seq).
 * Slow-consumer cut-offs therefore apply to live events only, where the runner must not wait.
 */
import { isTerminalRunStatus, type RunEvent, type RunStatus } from '@trellis/core';
import type { Engine } from '@trellis/runtime';

const PAGE = 100;

export interface ReplayTarget {
  runId: string;
  after: number;
  closed(): boolean;
  deliver(event: RunEvent): void;
  /** True while the socket holds more unsent bytes than it should. */
  backlogged(): boolean;
  /** Resolves when the socket has drained (or closed). */
  drained(): Promise<void>;
  /** The run had already finished and everything was delivered. */
  end(status: RunStatus, lastSeq: number): void;
  /** Replay is done: attach to the live feed after `lastSeq`. */
  follow(lastSeq: number): void;
}

export async function replayThenFollow(engine: Engine, t: ReplayTarget): Promise<void> {
  let after = t.after;
  for (;;) {
    if (t.closed()) return;
    const page = await engine.listEvents(t.runId, after, PAGE);
    for (const e of page) {
      if (t.closed()) return;
      t.deliver(e);
      after = e.seq;
      if (t.backlogged()) await t.drained();
    }
    if (page.length < PAGE) break;
  }
  if (t.closed()) return;
  const run = await engine.getRun(t.runId);
  if (t.closed()) return;
  if (run && isTerminalRunStatus(run.status) && after >= run.lastSeq) t.end(run.status, after);
  else t.follow(after);
}
