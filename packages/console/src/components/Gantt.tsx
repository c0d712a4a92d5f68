/** The run's timeline: a row per node, a bar per attempt, backoff wait and gate wait. */
import { formatDuration, shortRunId } from '../app/format.ts';
import type { Timeline } from '../run/timeline.ts';
import { Link } from './Layout.tsx';

export function Gantt({ timeline, onSelect }: { timeline: Timeline; onSelect: (nodeId: string) => void }) {
  if (timeline.rows.length === 0) return <p className="muted">No node has started yet.</p>;
  return (
    <figure className="gantt" aria-label="Timeline of attempts">
      <div className="gantt-legend">
        <span style={{ '--c': 'var(--ok)' } as React.CSSProperties}>attempt</span>
        <span style={{ '--c': 'var(--danger)' } as React.CSSProperties}>failed attempt</span>
        <span style={{ '--c': '#f5c451' } as React.CSSProperties}>backoff wait</span>
        <span style={{ '--c': '#a784ef' } as React.CSSProperties}>gate wait</span>
        {timeline.rows.some((r) => r.reusedFrom) && (
          <span style={{ '--c': 'var(--reused)' } as React.CSSProperties}>reused (not executed)</span>
        )}
        <span>total {formatDuration(timeline.durationMs)}</span>
      </div>
      {timeline.rows.map((r) => (
        <div key={r.nodeId} className={r.reusedFrom ? 'gantt-row reused' : 'gantt-row'} data-node-id={r.nodeId}>
          <button type="button" className="ghost gantt-label" onClick={() => onSelect(r.nodeId)}>
            {r.nodeId}
          </button>
          <div className="gantt-track">
            {r.reusedFrom && (
              <span className="gantt-reused" title={r.bars[0]?.title}>
                reused from{' '}
                <Link to={`/runs/${encodeURIComponent(r.reusedFrom)}`}>
                  <code>{shortRunId(r.reusedFrom)}</code>
                </Link>
              </span>
            )}
            {r.bars.map((b) => (
              <div
                key={`${b.kind}:${b.start}`}
                className={`gantt-bar k-${b.kind} s-${b.state}`}
                data-kind={b.kind}
                style={{ left: `${b.left * 100}%`, width: `${b.width * 100}%` }}
                title={b.title}
              />
            ))}
          </div>
        </div>
      ))}
    </figure>
  );
}
