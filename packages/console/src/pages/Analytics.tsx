/**
 * A workflow's run analytics (`/workflows/:id/analytics?window=7d`): runs over time by status,
 * duration p50/p95 and cost per run over time (charts; click a bucket to list its runs), the
 * slowest and most expensive nodes, and failures by error code. Two runs picked in the list open
 * side by side (`/runs/compare?a=…&b=…`).
 */
import { useCallback, useMemo, useState } from 'react';
import { useApi } from '../app/context.ts';
import { formatCost, formatDuration, formatTime, shortRunId } from '../app/format.ts';
import { navigate } from '../app/navigation.ts';
import { compareRunsPath } from '../app/routes.ts';
import { useAsync } from '../app/use-async.ts';
import { Chart, type ChartSeries } from '../components/Chart.tsx';
import { EmptyState, ErrorBanner, Loading, StatusBadge } from '../components/Feedback.tsx';
import { Link } from '../components/Layout.tsx';

export const WINDOWS = ['24h', '7d', '30d'] as const;
export type Window = (typeof WINDOWS)[number];

const STATUS_COLORS: Record<string, string> = {
  succeeded: '#2e9d5b',
  failed: '#d64545',
  cancelled: '#8a8f98',
  running: '#3b82f6',
  waiting: '#e0a100',
  queued: '#b4b9c2',
};
const STATUS_ORDER = ['succeeded', 'failed', 'cancelled', 'waiting', 'running', 'queued'];

export function windowFromSearch(search: string): Window {
  const w = new URLSearchParams(search).get('window');
  return (WINDOWS as readonly string[]).includes(w ?? '') ? (w as Window) : '7d';
}

const count = (v: number) => String(Math.round(v));
const ms = (v: number) => formatDuration(v);
const usd = (v: number) => formatCost(v);

interface Picked {
  index: number;
  status: string | undefined;
}

export function Analytics({ workflowId }: { workflowId: string }) {
  const api = useApi();
  const [window, setWindow] = useState<Window>(() => windowFromSearch(location.search));
  const [picked, setPicked] = useState<Picked | undefined>(undefined);
  const [selected, setSelected] = useState<string[]>([]);
  const wf = useAsync(() => api.getWorkflow(workflowId), [api, workflowId]);
  const data = useAsync(
    () => api.client.call('workflowAnalytics', { params: { id: workflowId }, query: { window } }),
    [api, workflowId, window],
  );

  const choose = (w: Window) => {
    setWindow(w);
    setPicked(undefined);
    history.replaceState(null, '', `/workflows/${encodeURIComponent(workflowId)}/analytics?window=${w}`);
  };

  const a = data.data;
  const x = useMemo(() => (a ? a.series.map((p) => Date.parse(p.start)) : []), [a]);
  const statuses = useMemo(() => (a ? STATUS_ORDER.filter((s) => a.series.some((p) => (p.byStatus[s] ?? 0) > 0)) : []), [a]);
  const runSeries = useMemo<ChartSeries[]>(
    () =>
      a
        ? statuses.map((s) => ({
            label: s,
            kind: 'bar',
            color: STATUS_COLORS[s] ?? '#999',
            values: a.series.map((p) => p.byStatus[s] ?? 0),
          }))
        : [],
    [a, statuses],
  );
  const durationSeries = useMemo<ChartSeries[]>(
    () =>
      a
        ? [
            { label: 'p50', kind: 'line', color: '#3b82f6', values: a.series.map((p) => p.p50Ms) },
            { label: 'p95', kind: 'line', color: '#d97706', values: a.series.map((p) => p.p95Ms) },
          ]
        : [],
    [a],
  );
  const costSeries = useMemo<ChartSeries[]>(
    () =>
      a
        ? [
            {
              label: 'cost per run',
              kind: 'line',
              color: '#7c3aed',
              values: a.series.map((p) => (p.runs ? p.costPerRunUsd : null)),
            },
          ]
        : [],
    [a],
  );
  const pickBucket = useCallback((index: number) => setPicked({ index, status: undefined }), []);

  const bucketMs = a?.bucket === 'day' ? 86_400_000 : 3_600_000;
  const point = a && picked ? a.series[picked.index] : undefined;
  const since = point ? point.start : undefined;
  const until = point ? new Date(Date.parse(point.start) + bucketMs).toISOString() : undefined;
  const runs = useAsync(
    () =>
      point && since && until
        ? api.client.call('listAllRuns', {
            query: { workflowId, since, until, limit: 100, ...(picked?.status ? { status: picked.status } : {}) },
          })
        : Promise.resolve(undefined),
    [api, workflowId, since, until, picked?.status],
  );

  const toggle = (id: string) => setSelected((cur) => (cur.includes(id) ? cur.filter((x) => x !== id) : [...cur.slice(-1), id]));

  const name = wf.data ? (wf.data.name ?? wf.data.definition.name) : workflowId;
  const slowest = a ? [...a.nodes.stats].sort((p, q) => (q.p95Ms ?? -1) - (p.p95Ms ?? -1)).slice(0, 10) : [];
  const costliest = a
    ? [...a.nodes.stats]
        .filter((s) => s.totalCostUsd > 0)
        .sort((p, q) => q.totalCostUsd - p.totalCostUsd)
        .slice(0, 10)
    : [];

  return (
    <>
      <div className="page-head">
        <h1>Analytics of {name}</h1>
        <Link to={`/workflows/${encodeURIComponent(workflowId)}/runs`}>Runs</Link>
        <Link to={`/workflows/${encodeURIComponent(workflowId)}`}>Open in builder</Link>
        <fieldset className="segmented" aria-label="Window">
          {WINDOWS.map((w) => (
            <button key={w} type="button" aria-pressed={window === w} onClick={() => choose(w)}>
              {w}
            </button>
          ))}
        </fieldset>
      </div>
      <ErrorBanner error={wf.error ?? data.error} onRetry={() => data.reload()} />
      {data.loading && !a && <Loading what="analytics" />}
      {a && a.totals.runs === 0 && (
        <EmptyState title="No runs in this window">
          <p>Runs started in the last {window} will show here.</p>
        </EmptyState>
      )}
      {a && a.totals.runs > 0 && (
        <>
          <dl className="stat-cards" aria-label="Totals">
            <div className="stat-card">
              <dt>Runs</dt>
              <dd>{a.totals.runs}</dd>
            </div>
            <div className="stat-card">
              <dt>Succeeded</dt>
              <dd>{Math.round(((a.totals.byStatus.succeeded ?? 0) / a.totals.runs) * 100)} %</dd>
            </div>
            <div className="stat-card">
              <dt>Duration p50 / p95</dt>
              <dd>
                {formatDuration(a.totals.p50Ms)} / {formatDuration(a.totals.p95Ms)}
              </dd>
            </div>
            <div className="stat-card">
              <dt>Cost</dt>
              <dd>{formatCost(a.totals.costUsd)}</dd>
            </div>
            <div className="stat-card">
              <dt>Cost per run</dt>
              <dd>{formatCost(a.totals.costPerRunUsd)}</dd>
            </div>
          </dl>
          <p className="muted">Click a bar or point to list the runs behind it.</p>
          <div className="charts">
            <Chart title="Runs by status" x={x} series={runSeries} format={count} onPick={pickBucket} />
            <Chart title="Duration" x={x} series={durationSeries} format={ms} onPick={pickBucket} />
            <Chart title="Cost per run" x={x} series={costSeries} format={usd} onPick={pickBucket} />
          </div>

          {point && (
            <section className="card" aria-label="Runs in the selected period">
              <h2>
                Runs from {formatTime(point.start)} ({a.bucket === 'day' ? 'one day' : 'one hour'})
              </h2>
              <div className="chips">
                <button
                  type="button"
                  aria-pressed={!picked?.status}
                  onClick={() => setPicked({ index: picked!.index, status: undefined })}
                >
                  all {point.runs}
                </button>
                {Object.entries(point.byStatus).map(([s, n]) => (
                  <button
                    key={s}
                    type="button"
                    aria-pressed={picked?.status === s}
                    onClick={() => setPicked({ index: picked!.index, status: s })}
                  >
                    {s} {n}
                  </button>
                ))}
                <button
                  type="button"
                  className="primary"
                  disabled={selected.length !== 2}
                  onClick={() => navigate(compareRunsPath(selected[0]!, selected[1]!))}
                >
                  Compare selected ({selected.length}/2)
                </button>
              </div>
              <ErrorBanner error={runs.error} />
              {runs.data && (
                <table className="table" aria-label="Runs in the period">
                  <thead>
                    <tr>
                      <th>Compare</th>
                      <th>Run</th>
                      <th>Status</th>
                      <th>Started</th>
                      <th>Cost</th>
                    </tr>
                  </thead>
                  <tbody>
                    {runs.data.items.map((r) => (
                      <tr key={r.id}>
                        <td>
                          <input
                            type="checkbox"
                            aria-label={`Compare run ${shortRunId(r.id)}`}
                            checked={selected.includes(r.id)}
                            onChange={() => toggle(r.id)}
                          />
                        </td>
                        <td>
                          <Link to={`/runs/${encodeURIComponent(r.id)}`}>
                            <code>{shortRunId(r.id)}</code>
                          </Link>
                        </td>
                        <td>
                          <StatusBadge status={r.status} />
                        </td>
                        <td>{formatTime(r.startedAt ?? r.createdAt)}</td>
                        <td>{formatCost(r.costUsd)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </section>
          )}

          <div className="two-columns">
            <section className="card">
              <h2>Slowest nodes</h2>
              <p className="muted">Of the {a.nodes.runsSampled} most recent runs in the window, by p95.</p>
              <table className="table" aria-label="Slowest nodes">
                <thead>
                  <tr>
                    <th>Node</th>
                    <th>Type</th>
                    <th>p50</th>
                    <th>p95</th>
                    <th>Max</th>
                    <th>Runs</th>
                  </tr>
                </thead>
                <tbody>
                  {slowest.map((s) => (
                    <tr key={s.nodeId}>
                      <td>
                        <code>{s.nodeId}</code>
                      </td>
                      <td>{s.type ?? '—'}</td>
                      <td>{formatDuration(s.p50Ms)}</td>
                      <td>{formatDuration(s.p95Ms)}</td>
                      <td>{formatDuration(s.maxMs)}</td>
                      <td>{s.count}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
            <section className="card">
              <h2>Most expensive nodes</h2>
              <p className="muted">Of the same runs, by total cost.</p>
              {costliest.length === 0 ? (
                <p>No node reported a cost.</p>
              ) : (
                <table className="table" aria-label="Most expensive nodes">
                  <thead>
                    <tr>
                      <th>Node</th>
                      <th>Type</th>
                      <th>Total</th>
                      <th>Per execution</th>
                    </tr>
                  </thead>
                  <tbody>
                    {costliest.map((s) => (
                      <tr key={s.nodeId}>
                        <td>
                          <code>{s.nodeId}</code>
                        </td>
                        <td>{s.type ?? '—'}</td>
                        <td>{formatCost(s.totalCostUsd)}</td>
                        <td>{formatCost(s.avgCostUsd)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </section>
          </div>
          <section className="card">
            <h2>Failures by error code</h2>
            {a.failures.length === 0 ? (
              <p>No run failed in this window.</p>
            ) : (
              <table className="table" aria-label="Failures by error code">
                <thead>
                  <tr>
                    <th>Code</th>
                    <th>Runs</th>
                    <th>Latest</th>
                    <th>Message</th>
                  </tr>
                </thead>
                <tbody>
                  {a.failures.map((f) => (
                    <tr key={f.code}>
                      <td>
                        <code>{f.code}</code>
                      </td>
                      <td>{f.count}</td>
                      <td>
                        <Link to={`/runs/${encodeURIComponent(f.lastRunId)}`}>{formatTime(f.lastAt)}</Link>
                      </td>
                      <td>{f.message}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
        </>
      )}
    </>
  );
}
