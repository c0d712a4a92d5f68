/**
 * The run's event log, newest last, as received (each seq once): times to the millisecond with
 * the offset from the first event, filtered by event type and node.
 */
import type { RunEvent } from '@trellis/core';
import { useId, useMemo, useState } from 'react';
import { formatDuration } from '../app/format.ts';
import { attemptDurationsBySeq } from '../run/durations.ts';
import { offsetMs, timeWithMs } from '../run/questions.ts';

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
  const [type, setType] = useState('');
  const [node, setNode] = useState('');
  const typeId = useId();
  const nodeId = useId();
  const types = useMemo(() => [...new Set(events.map((e) => e.type))].sort(), [events]);
  const nodes = useMemo(() => [...new Set(events.flatMap((e) => (e.nodeId ? [e.nodeId] : [])))].sort(), [events]);
  if (events.length === 0) return <p className="muted">No events yet.</p>;
  const start = events[0]?.at;
  const shown = events.filter((e) => (type === '' || e.type === type) && (node === '' || e.nodeId === node));
  return (
    <>
      <div className="event-filter">
        <label htmlFor={typeId} className="small">
          Type
        </label>
        <select id={typeId} value={type} onChange={(e) => setType(e.target.value)} aria-label="Filter events by type">
          <option value="">all types</option>
          {types.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
        <label htmlFor={nodeId} className="small">
          Node
        </label>
        <select id={nodeId} value={node} onChange={(e) => setNode(e.target.value)} aria-label="Filter events by node">
          <option value="">all nodes</option>
          {nodes.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
        <span className="muted small">
          {shown.length} of {events.length}
        </span>
      </div>
      <table className="events" aria-label="Event log">
        <tbody>
          {shown.map((e) => (
            <tr key={e.seq} data-seq={e.seq}>
              <td className="seq">{e.seq}</td>
              <td title={e.at}>
                <time dateTime={e.at}>{timeWithMs(e.at)}</time> <span className="muted small">{offsetMs(start, e.at)}</span>
              </td>
              <td>
                <code>{e.type}</code>
              </td>
              <td>{e.nodeId ?? ''}</td>
              <td>{summary(e, durations.get(e.seq))}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
