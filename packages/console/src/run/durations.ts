/**
 * The console's one definition of durations, used by every view (the attempt rows, the event
 * log, the timeline, the run header and the runs list); docs/console.md "Durations" says the
 * same in words.
 *
 * - **Attempt**: from the attempt's `node.started` event to the event that ends it
 *   (`node.succeeded`, `node.failed`, `node.retrying` or `node.cancelled`). These are the
 *   timestamps the run record stores as the attempt's `startedAt` / `finishedAt`, so the live
 *   view and a reloaded record agree. A wait for a decision inside the attempt (a gate, an agent
 *   asking a question) is part of it; the timeline draws that wait on top of the attempt.
 * - **Run**: `startedAt` to `finishedAt`; the time queued before the start is not part of it.
 * - Anything still going is measured up to now.
 *
 * The engine's `durationMs` in `node.succeeded` events (the executor's own time, without
 * scheduling or waits) is not shown as a duration.
 */
import type { RunEvent } from '@trellis/core';

/** Milliseconds since the epoch of an ISO timestamp; undefined when absent or unreadable. */
export function isoMs(iso: string | null | undefined): number | undefined {
  if (!iso) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
}

/** An attempt's duration from its start and end (ms); an open attempt runs to `now`. */
export function attemptDurationMs(start: number, end: number | undefined, now: number): number {
  return Math.max(0, (end ?? now) - start);
}

/** A run's duration: `startedAt` → `finishedAt` (or now); undefined before it started. */
export function runDurationMs(startedAt: number | undefined, finishedAt: number | undefined, now: number): number | undefined {
  return startedAt === undefined ? undefined : Math.max(0, (finishedAt ?? now) - startedAt);
}

/** The same, from a run record's ISO timestamps. */
export function recordRunDurationMs(
  r: { startedAt: string | null; finishedAt: string | null },
  now: number = Date.now(),
): number | undefined {
  return runDurationMs(isoMs(r.startedAt), isoMs(r.finishedAt), now);
}

const ENDS_ATTEMPT = new Set<RunEvent['type']>(['node.succeeded', 'node.failed', 'node.retrying', 'node.cancelled']);

/**
 * For each event that ends an attempt (by seq), the attempt's duration: from the matching
 * `node.started` (same node, item and attempt) to that event. Used by the event log.
 */
export function attemptDurationsBySeq(events: readonly RunEvent[]): Map<number, number> {
  const started = new Map<string, number>();
  const out = new Map<number, number>();
  const key = (e: RunEvent, attempt: unknown) => `${e.nodeId ?? ''}\u0000${e.item ?? ''}\u0000${String(attempt)}`;
  for (const e of events) {
    const attempt = (e.data as { attempt?: unknown } | undefined)?.attempt;
    const at = Date.parse(e.at);
    if (e.type === 'node.started') started.set(key(e, attempt), at);
    else if (ENDS_ATTEMPT.has(e.type)) {
      // node.cancelled carries no attempt: it ends the node's open one, if any.
      const k =
        attempt === undefined
          ? [...started.keys()].reverse().find((s) => s.startsWith(`${e.nodeId ?? ''}\u0000${e.item ?? ''}\u0000`))
          : key(e, attempt);
      const s = k === undefined ? undefined : started.get(k);
      if (s !== undefined && k !== undefined) {
        out.set(e.seq, attemptDurationMs(s, at, at));
        started.delete(k);
      }
    }
  }
  return out;
}
