/** The run's event log, newest last, as received (each seq once). */
import type { RunEvent } from '@trellis/core';
import { useMemo } from 'react';
import { formatDuration } from '../app/format.ts';
import { attemptDurationsBySeq } from '../run/durations.ts';

function summary(e: RunEvent, attemptMs: number | undefined): string {
  const d = e.data as Record<string, unknown>;
  switch (e.type) {
    case 'node.started':
      return `attempt ${String(d.attempt)}`;
    case 'node.retrying':
      return `attempt ${String(d.attempt)} failed (${(d.error as { code?: string })?.code ?? ''}); retry in ${String(d.delayMs)} ms`;
    case 'node.failed':
    case 'run.failed': {
      const err = d.error as { code?: string; message?: string } | undefined;
      return `${err?.code ?? ''}: ${err?.message ?? ''}`;
    }
    case 'node.waiting':
      return String(d.prompt ?? '');
    case 'node.succeeded':
      return attemptMs === undefined
        ? `attempt ${String(d.attempt)}`
        : `attempt ${String(d.attempt)}, ${formatDuration(attemptMs)}`;
    case 'gate.approved':
    case 'gate.rejected':
      return `by ${String(d.by)}${d.comment ? `: ${String(d.comment)}` : ''}`;
    case 'run.cost':
      return `$${String(d.totalUsd)}`;
    default:
      return '';
  }
}

export function EventLog({ events }: { events: readonly RunEvent[] }) {
  const durations = useMemo(() => attemptDurationsBySeq(events), [events]);
  if (events.length === 0) return <p className="muted">No events yet.</p>;
  return (
    <table className="events" aria-label="Event log">
      <tbody>
        {events.map((e) => (
          <tr key={e.seq} data-seq={e.seq}>
            <td className="seq">{e.seq}</td>
            <td>{new Date(e.at).toLocaleTimeString()}</td>
            <td>
              <code>{e.type}</code>
            </td>
            <td>{e.nodeId ?? ''}</td>
            <td>{summary(e, durations.get(e.seq))}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
