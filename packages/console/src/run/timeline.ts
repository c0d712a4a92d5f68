/**
 * The Gantt timeline: every attempt, backoff wait and gate wait as a bar, placed on a shared
 * time axis. Pure, so the layout is tested without a browser.
 */
import { formatDuration } from '../app/format.ts';
import { attemptDurationMs, runDurationMs } from './durations.ts';
import type { RunView } from './run-state.ts';

export type BarKind = 'attempt' | 'backoff' | 'gate' | 'reused';

export interface Bar {
  kind: BarKind;
  /** Attempt state for attempts; the wait kind otherwise. */
  state: string;
  /** Fractions of the axis, 0..1. */
  left: number;
  width: number;
  start: number;
  end: number;
  /** Still going (drawn up to now). */
  open: boolean;
  title: string;
}

export interface TimelineRow {
  nodeId: string;
  bars: Bar[];
  /** A retry reused the node from this run: one `reused` bar, no attempt. */
  reusedFrom?: string;
}

export interface Timeline {
  start: number;
  end: number;
  /** The run's duration (run/durations.ts), what the header shows too. */
  durationMs: number;
  rows: TimelineRow[];
}

export function buildTimeline(view: RunView, order: readonly string[], now: number): Timeline {
  let start = view.startedAt ?? Number.POSITIVE_INFINITY;
  let end = view.finishedAt ?? now;
  for (const n of Object.values(view.nodes)) {
    for (const a of n.attempts) start = Math.min(start, a.start);
    for (const w of n.waits) start = Math.min(start, w.start);
    for (const a of n.attempts) end = Math.max(end, a.end ?? now);
  }
  if (!Number.isFinite(start)) start = now;
  if (end <= start) end = start + 1;
  const span = end - start;
  const frac = (t: number) => Math.min(1, Math.max(0, (t - start) / span));
  const rows: TimelineRow[] = [];
  const ids = [...order, ...Object.keys(view.nodes).filter((id) => !order.includes(id))];
  for (const nodeId of ids) {
    const n = view.nodes[nodeId];
    if (n?.reusedFrom !== undefined) {
      // Not executed here: a marker at the start of the axis, drawn apart from attempts.
      rows.push({
        nodeId,
        reusedFrom: n.reusedFrom,
        bars: [
          {
            kind: 'reused',
            state: 'reused',
            left: 0,
            width: 0,
            start,
            end: start,
            open: false,
            title: `reused from run ${n.reusedFrom}: not executed${n.costSavedUsd ? `, saved $${n.costSavedUsd}` : ''}`,
          },
        ],
      });
      continue;
    }
    if (!n || (n.attempts.length === 0 && n.waits.length === 0)) continue;
    const bars: Bar[] = [];
    for (const a of n.attempts) {
      const e = a.end ?? view.finishedAt ?? now;
      bars.push({
        kind: 'attempt',
        state: a.state,
        left: frac(a.start),
        width: Math.max(0, frac(e) - frac(a.start)),
        start: a.start,
        end: e,
        open: a.end === undefined,
        title: `attempt ${a.attempt}: ${a.state}, ${formatDuration(attemptDurationMs(a.start, a.end, e))}${a.error ? ` (${a.error.code}: ${a.error.message})` : ''}`,
      });
    }
    for (const w of n.waits) {
      const e = w.end ?? view.finishedAt ?? now;
      bars.push({
        kind: w.kind,
        state: w.kind,
        left: frac(w.start),
        width: Math.max(0, frac(e) - frac(w.start)),
        start: w.start,
        end: e,
        open: w.end === undefined,
        title:
          w.kind === 'backoff'
            ? `backoff ${Math.round((w.due ?? e) - w.start)} ms before the next attempt`
            : `waiting for a decision${w.decision ? `: ${w.decision}${w.by ? ` by ${w.by}` : ''}` : ''}, ${Math.round(e - w.start)} ms`,
      });
    }
    rows.push({ nodeId, bars });
  }
  return { start, end, rows, durationMs: runDurationMs(view.startedAt, view.finishedAt, now) ?? end - start };
}
