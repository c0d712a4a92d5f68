/**
 * Two runs side by side (`/runs/compare?a=<run>&b=<run>`): status, duration and cost of each run
 * and each node, what changed, and where the outputs differ. Built from the two run records the
 * API returns (each read with the caller's own permission), compared in the browser.
 */
import type { RunRecord } from '@trellis/core';
import { useMemo } from 'react';
import { useApi } from '../app/context.ts';
import { formatCost, formatDuration, formatJson, formatTime, shortRunId } from '../app/format.ts';
import { useAsync } from '../app/use-async.ts';
import { EmptyState, ErrorBanner, Loading, StatusBadge } from '../components/Feedback.tsx';
import { Link } from '../components/Layout.tsx';
import { compareRuns, type ValueDiff } from '../run/compare.ts';

export function compareTargets(search: string): { a: string; b: string } | undefined {
  const q = new URLSearchParams(search);
  const a = q.get('a');
  const b = q.get('b');
  return a && b ? { a, b } : undefined;
}

function delta(v: number | null, fmt: (n: number) => string): string {
  if (v === null || v === 0) return '';
  return `${v > 0 ? '+' : '−'}${fmt(Math.abs(v))}`;
}

function Diffs({ diffs, label }: { diffs: ValueDiff[]; label: string }) {
  if (diffs.length === 0) return <span className="muted">same</span>;
  return (
    <details>
      <summary>
        {diffs.length} difference{diffs.length === 1 ? '' : 's'}
      </summary>
      <table className="table diff" aria-label={label}>
        <thead>
          <tr>
            <th>Path</th>
            <th>A</th>
            <th>B</th>
          </tr>
        </thead>
        <tbody>
          {diffs.map((d) => (
            <tr key={d.path}>
              <td>
                <code>{d.path}</code>
              </td>
              <td>
                <pre>{formatJson(d.a)}</pre>
              </td>
              <td>
                <pre>{formatJson(d.b)}</pre>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

export function Compare({ search }: { search: string }) {
  const api = useApi();
  const target = compareTargets(search);
  const runs = useAsync(
    () => (target ? Promise.all([api.getRun(target.a), api.getRun(target.b)]) : Promise.resolve(undefined)),
    [api, target?.a, target?.b],
  );
  const pair = runs.data as [RunRecord, RunRecord] | undefined;
  const cmp = useMemo(() => (pair ? compareRuns(pair[0], pair[1]) : undefined), [pair]);

  if (!target)
    return (
      <EmptyState title="Pick two runs to compare">
        <p>
          Open <code>/runs/compare?a=&lt;run id&gt;&amp;b=&lt;run id&gt;</code>, or select two runs on a workflow's analytics
          page.
        </p>
      </EmptyState>
    );
  return (
    <>
      <div className="page-head">
        <h1>Compare runs</h1>
        {pair && <Link to={`/workflows/${encodeURIComponent(pair[0].workflowId)}/analytics`}>Workflow analytics</Link>}
      </div>
      <ErrorBanner error={runs.error} onRetry={() => runs.reload()} />
      {runs.loading && !pair && <Loading what="the two runs" />}
      {pair && cmp && (
        <>
          {!cmp.sameWorkflow && (
            <p role="note" className="warning">
              These runs belong to different workflows; nodes are matched by id.
            </p>
          )}
          <table className="table" aria-label="Runs compared">
            <thead>
              <tr>
                <th />
                <th>A</th>
                <th>B</th>
                <th>Change</th>
              </tr>
            </thead>
            <tbody>
              <tr>
                <th scope="row">Run</th>
                {pair.map((r) => (
                  <td key={r.id}>
                    <Link to={`/runs/${encodeURIComponent(r.id)}`}>
                      <code>{shortRunId(r.id)}</code>
                    </Link>{' '}
                    v{r.version}
                  </td>
                ))}
                <td />
              </tr>
              <tr>
                <th scope="row">Status</th>
                {pair.map((r) => (
                  <td key={r.id}>
                    <StatusBadge status={r.status} />
                  </td>
                ))}
                <td>{pair[0].status === pair[1].status ? '' : 'changed'}</td>
              </tr>
              <tr>
                <th scope="row">Started</th>
                {pair.map((r) => (
                  <td key={r.id}>{formatTime(r.startedAt ?? r.createdAt)}</td>
                ))}
                <td />
              </tr>
              <tr>
                <th scope="row">Duration</th>
                <td>{formatDuration(cmp.durationA)}</td>
                <td>{formatDuration(cmp.durationB)}</td>
                <td>
                  {cmp.durationA !== null && cmp.durationB !== null ? delta(cmp.durationB - cmp.durationA, formatDuration) : ''}
                </td>
              </tr>
              <tr>
                <th scope="row">Cost</th>
                <td>{formatCost(pair[0].costUsd)}</td>
                <td>{formatCost(pair[1].costUsd)}</td>
                <td>{delta(cmp.costDelta, formatCost)}</td>
              </tr>
              <tr>
                <th scope="row">Input</th>
                <td colSpan={3}>
                  <Diffs diffs={cmp.inputDiffs} label="Input differences" />
                </td>
              </tr>
              <tr>
                <th scope="row">Output</th>
                <td colSpan={3}>
                  <Diffs diffs={cmp.outputDiffs} label="Output differences" />
                </td>
              </tr>
            </tbody>
          </table>
          <h2>Nodes</h2>
          <table className="table" aria-label="Nodes compared">
            <thead>
              <tr>
                <th>Node</th>
                <th>Status A</th>
                <th>Status B</th>
                <th>Duration A</th>
                <th>Duration B</th>
                <th>Δ duration</th>
                <th>Cost A</th>
                <th>Cost B</th>
                <th>Output</th>
              </tr>
            </thead>
            <tbody>
              {cmp.nodes.map((n) => (
                <tr key={n.nodeId} className={n.changed ? 'changed' : undefined} data-changed={n.changed}>
                  <td>
                    <code>{n.nodeId}</code>
                  </td>
                  <td>{n.a ? <StatusBadge status={n.a.status} /> : '—'}</td>
                  <td>{n.b ? <StatusBadge status={n.b.status} /> : '—'}</td>
                  <td>{formatDuration(n.durationA)}</td>
                  <td>{formatDuration(n.durationB)}</td>
                  <td>{delta(n.durationDelta, formatDuration)}</td>
                  <td>{n.a ? formatCost(n.a.costUsd) : '—'}</td>
                  <td>{n.b ? formatCost(n.b.costUsd) : '—'}</td>
                  <td>
                    {n.a && n.b ? (
                      <Diffs diffs={n.outputDiffs} label={`Output differences of ${n.nodeId}`} />
                    ) : (
                      <span className="muted">only in {n.a ? 'A' : 'B'}</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </>
  );
}
