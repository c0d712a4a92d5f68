/**
 * A map node's items in the run view: progress (done / running / failed of n) and a list of
 * every item that stays usable at 10,000 items — rows have a fixed height and only those in
 * view (plus a margin) are rendered.
 */
import type { ItemRunRecord, NodeStatus } from '@trellis/core';
import { useState } from 'react';
import { shortRunId } from '../app/format.ts';
import type { ItemsView } from '../run/run-state.ts';
import { StatusBadge } from './Feedback.tsx';
import { Link } from './Layout.tsx';

const ROW = 26;
const HEIGHT = 312;

export function MapItems({
  count,
  live,
  records,
}: {
  /** How many items `items` resolved to (from the run record; the highest index seen otherwise). */
  count: number | undefined;
  live: ItemsView | undefined;
  records: Record<string, ItemRunRecord> | undefined;
}) {
  const [top, setTop] = useState(0);
  const [filter, setFilter] = useState<'all' | 'failed' | 'running'>('all');
  const seen = Math.max(live ? Math.max(-1, ...live.status.keys()) + 1 : 0, records ? Object.keys(records).length : 0);
  const n = Math.max(count ?? 0, seen);
  const statusOf = (i: number): NodeStatus | undefined => live?.status.get(i) ?? records?.[String(i)]?.status;
  const counts = live ?? tally(records);
  const indexes =
    filter === 'all'
      ? undefined
      : Array.from({ length: n }, (_, i) => i).filter((i) => {
          const s = statusOf(i);
          return filter === 'failed' ? s === 'failed' : s === 'running' || s === 'retrying' || s === 'waiting';
        });
  const rows = indexes ? indexes.length : n;
  const first = Math.max(0, Math.floor(top / ROW) - 5);
  const last = Math.min(rows, Math.ceil((top + HEIGHT) / ROW) + 5);
  const visible: number[] = [];
  for (let r = first; r < last; r++) visible.push(indexes ? (indexes[r] as number) : r);
  return (
    <section aria-label="Map items" className="map-items">
      <p data-field="map-progress">
        <strong>{counts.done}</strong> done · <strong>{counts.running}</strong> running · <strong>{counts.failed}</strong> failed
        {counts.waiting ? ` · ${counts.waiting} waiting` : ''}
        {counts.cancelled ? ` · ${counts.cancelled} cancelled` : ''} of <strong>{n}</strong>
      </p>
      <progress max={n || 1} value={counts.done + counts.failed} aria-label="Items finished" />
      <label className="small">
        Show{' '}
        <select value={filter} onChange={(e) => setFilter(e.target.value as typeof filter)}>
          <option value="all">all items</option>
          <option value="running">running or waiting</option>
          <option value="failed">failed</option>
        </select>
      </label>
      <div
        data-field="map-item-list"
        style={{ height: HEIGHT, overflowY: 'auto', position: 'relative' }}
        onScroll={(e) => setTop(e.currentTarget.scrollTop)}
      >
        <ol aria-label="Items" style={{ height: rows * ROW, position: 'relative', margin: 0, padding: 0, listStyle: 'none' }}>
          {visible.map((i, k) => {
            const rec = records?.[String(i)];
            return (
              <li
                key={i}
                data-item={i}
                style={{ position: 'absolute', top: (first + k) * ROW, height: ROW, left: 0, right: 0 }}
                className="small"
              >
                <code>#{i}</code> <StatusBadge status={statusOf(i) ?? 'pending'} />
                {rec?.childRunId && (
                  <>
                    {' '}
                    <Link to={`/runs/${encodeURIComponent(rec.childRunId)}`}>child run {shortRunId(rec.childRunId)}</Link>
                  </>
                )}
                {rec?.error && <span className="field-error"> {rec.error.code}</span>}
              </li>
            );
          })}
        </ol>
      </div>
    </section>
  );
}

function tally(records: Record<string, ItemRunRecord> | undefined) {
  const t = { running: 0, done: 0, failed: 0, waiting: 0, cancelled: 0 };
  for (const r of Object.values(records ?? {})) {
    if (r.status === 'succeeded') t.done++;
    else if (r.status === 'failed') t.failed++;
    else if (r.status === 'waiting') t.waiting++;
    else if (r.status === 'cancelled') t.cancelled++;
    else if (r.status === 'running' || r.status === 'retrying') t.running++;
  }
  return t;
}
