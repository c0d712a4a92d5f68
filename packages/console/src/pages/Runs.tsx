/**
 * Run history: one workflow's runs (`/workflows/:id/runs`, with the start-run form) and the runs
 * of every workflow the user may see (`/runs`). Both read `GET /workflow_runs`: filters by
 * status, date and origin; input and trigger columns; "re-run with this input" (the start form,
 * prefilled); select two runs to compare them.
 */
import type { RunStatus } from '@trellis/core';
import { RUN_STATUSES } from '@trellis/core';
import { useState } from 'react';
import type { RunHistoryItem, RunHistoryQuery, WorkflowDetail } from '../api/types.ts';
import { useApi } from '../app/context.ts';
import { formatCost, formatDuration, formatTime, shortRunId } from '../app/format.ts';
import { navigate } from '../app/navigation.ts';
import { compareRunsPath } from '../app/routes.ts';
import { useAsync } from '../app/use-async.ts';
import { CallPanel } from '../components/CallPanel.tsx';
import { EmptyState, ErrorBanner, Loading, StatusBadge } from '../components/Feedback.tsx';
import { Link } from '../components/Layout.tsx';
import { StartRunForm } from '../components/StartRunForm.tsx';
import { recordRunDurationMs } from '../run/durations.ts';
import { type HistoryFilters, historyQuery } from '../run/history-filters.ts';

export function Runs({ workflowId }: { workflowId: string }) {
  const api = useApi();
  const wf = useAsync(() => api.getWorkflow(workflowId), [api, workflowId]);
  const [start, setStart] = useState<{ input?: unknown; from?: string } | undefined>(undefined);
  const [calling, setCalling] = useState(false);
  const [error, setError] = useState<unknown>(undefined);

  async function startRun(input: unknown) {
    setError(undefined);
    try {
      const run = await api.startRun(workflowId, input);
      navigate(`/runs/${encodeURIComponent(run.id)}`);
    } catch (err) {
      setError(err);
    }
  }

  async function rerun(runId: string) {
    setError(undefined);
    try {
      const rec = await api.getRun(runId);
      setStart({ input: rec.input, from: runId });
    } catch (err) {
      setError(err);
    }
  }

  return (
    <>
      <div className="page-head">
        <h1>Runs{wf.data ? ` of ${wf.data.name ?? wf.data.definition.name}` : ''}</h1>
        <Link to={`/workflows/${encodeURIComponent(workflowId)}`}>Open in builder</Link>
        <Link to={`/workflows/${encodeURIComponent(workflowId)}/analytics`}>Analytics</Link>
        <button type="button" className="primary" onClick={() => setStart(start ? undefined : {})} aria-expanded={!!start}>
          Start run
        </button>
        <button type="button" onClick={() => setCalling(!calling)} aria-expanded={calling}>
          How to call it
        </button>
      </div>
      {calling && wf.data && <CallPanel workflowId={workflowId} inputSchema={wf.data.definition.inputSchema} />}
      <ErrorBanner error={wf.error} onRetry={wf.reload} />
      <ErrorBanner error={error} />
      {start && wf.data && <StartCard workflow={wf.data} start={start} onStart={startRun} onCancel={() => setStart(undefined)} />}
      <RunHistory workflowId={workflowId} onRerun={(id) => void rerun(id)} />
    </>
  );
}

function StartCard({
  workflow,
  start,
  onStart,
  onCancel,
}: {
  workflow: WorkflowDetail;
  start: { input?: unknown; from?: string };
  onStart: (input: unknown) => Promise<void>;
  onCancel: () => void;
}) {
  return (
    <div className="card">
      {start.from && (
        <p className="small muted">
          Input of run <code>{shortRunId(start.from)}</code>; change it before starting if you like.
        </p>
      )}
      <StartRunForm
        key={start.from ?? 'new'}
        schema={workflow.definition.inputSchema}
        initialInput={start.input}
        onStart={onStart}
        onCancel={onCancel}
      />
    </div>
  );
}

/** `/runs`: every workflow's runs; "re-run with this input" opens the start form of the run's workflow. */
export function AllRuns() {
  const api = useApi();
  const [start, setStart] = useState<{ input?: unknown; from?: string; workflow: WorkflowDetail } | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);

  async function rerun(runId: string) {
    setError(undefined);
    try {
      const rec = await api.getRun(runId);
      const workflow = await api.getWorkflow(rec.workflowId);
      setStart({ input: rec.input, from: runId, workflow });
    } catch (err) {
      setError(err);
    }
  }

  return (
    <>
      <div className="page-head">
        <h1>Runs</h1>
        <span className="muted small">of every workflow you can see</span>
      </div>
      <ErrorBanner error={error} />
      {start && (
        <>
          <p className="small">
            Re-run of <Link to={`/workflows/${encodeURIComponent(start.workflow.id)}/runs`}>{start.workflow.name}</Link>
          </p>
          <StartCard
            workflow={start.workflow}
            start={start}
            onStart={async (input) => {
              try {
                const run = await api.startRun(start.workflow.id, input);
                navigate(`/runs/${encodeURIComponent(run.id)}`);
              } catch (err) {
                setError(err);
              }
            }}
            onCancel={() => setStart(undefined)}
          />
        </>
      )}
      <RunHistory onRerun={(id) => void rerun(id)} />
    </>
  );
}

const STATUS_CHOICES: RunStatus[] = [...RUN_STATUSES];

function RunHistory({ workflowId, onRerun }: { workflowId?: string; onRerun: (runId: string) => void }) {
  const api = useApi();
  const [filters, setFilters] = useState<HistoryFilters>({ status: '', from: '', to: '', origin: '' });
  const query: RunHistoryQuery = { ...historyQuery(filters), limit: 50, ...(workflowId ? { workflowId } : {}) };
  const key = JSON.stringify(query);
  const [more, setMore] = useState<{ key: string; items: RunHistoryItem[]; cursor: string | null } | undefined>(undefined);
  const runs = useAsync(() => api.listAllRuns(query), [api, key]);
  const [selected, setSelected] = useState<string[]>([]);
  const items = [...(runs.data?.items ?? []), ...(more?.key === key ? more.items : [])];
  const cursor = more?.key === key ? more.cursor : (runs.data?.nextCursor ?? null);

  async function loadMore() {
    if (!cursor) return;
    const page = await api.listAllRuns({ ...query, cursor });
    setMore({ key, items: [...(more?.key === key ? more.items : []), ...page.items], cursor: page.nextCursor });
  }

  const set = (patch: Partial<HistoryFilters>) => {
    setFilters({ ...filters, ...patch });
    setMore(undefined);
  };
  const toggle = (id: string) =>
    setSelected((s) => (s.includes(id) ? s.filter((x) => x !== id) : [...s.slice(s.length >= 2 ? 1 : 0), id]));
  const pair = selected.length === 2 ? items.filter((r) => selected.includes(r.id)) : [];

  return (
    <>
      <form className="history-filters" aria-label="Filter runs" onSubmit={(e) => e.preventDefault()}>
        <label>
          Status
          <select value={filters.status} onChange={(e) => set({ status: e.target.value as HistoryFilters['status'] })}>
            <option value="">any</option>
            {STATUS_CHOICES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          From
          <input type="date" value={filters.from} onChange={(e) => set({ from: e.target.value })} />
        </label>
        <label>
          To
          <input type="date" value={filters.to} onChange={(e) => set({ to: e.target.value })} />
        </label>
        <label>
          Started by
          <select value={filters.origin} onChange={(e) => set({ origin: e.target.value as HistoryFilters['origin'] })}>
            <option value="">anyone or anything</option>
            <option value="manual">a person or program (API)</option>
            <option value="schedule">a schedule</option>
            <option value="webhook">a webhook</option>
          </select>
        </label>
        {pair.length === 2 ? (
          <Link to={compareRunsPath(...orderedPair(pair))} className="button">
            Compare the 2 selected runs
          </Link>
        ) : (
          <span className="muted small">Select two runs to compare them.</span>
        )}
      </form>
      <ErrorBanner error={runs.error} onRetry={runs.reload} />
      {runs.loading && !runs.data && <Loading what="runs" />}
      {runs.data && items.length === 0 && (
        <EmptyState title="No runs">
          <p>
            {query.status || query.since || query.until || query.origin
              ? 'No run matches these filters.'
              : 'Start a run to see it here.'}
          </p>
        </EmptyState>
      )}
      {items.length > 0 && (
        <table className="table" aria-label="Runs">
          <thead>
            <tr>
              <th>
                <span className="sr-only">Select</span>
              </th>
              <th>Run</th>
              {!workflowId && <th>Workflow</th>}
              <th>Status</th>
              <th>Started</th>
              <th>Duration</th>
              <th>Cost</th>
              <th>Version</th>
              <th>Trigger</th>
              <th>Input</th>
              <th>
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((r) => (
              <tr key={r.id}>
                <td>
                  <input
                    type="checkbox"
                    checked={selected.includes(r.id)}
                    onChange={() => toggle(r.id)}
                    aria-label={`Select run ${shortRunId(r.id)} to compare`}
                  />
                </td>
                <td>
                  <Link to={`/runs/${encodeURIComponent(r.id)}`}>
                    <code>{shortRunId(r.id)}</code>
                  </Link>
                </td>
                {!workflowId && (
                  <td>
                    <Link to={`/workflows/${encodeURIComponent(r.workflowId)}/runs`}>{r.workflowName}</Link>
                  </td>
                )}
                <td>
                  <StatusBadge status={r.status} />
                </td>
                <td>{formatTime(r.startedAt ?? r.createdAt)}</td>
                <td>{formatDuration(recordRunDurationMs(r))}</td>
                <td>{formatCost(r.costUsd)}</td>
                <td>v{r.version}</td>
                <td className="small">
                  {r.trigger ? (
                    <span
                      title={
                        r.trigger.type === 'schedule' ? `tick ${r.trigger.tick}` : `delivery ${r.trigger.deliveryId ?? '(none)'}`
                      }
                    >
                      {r.trigger.type} <code>{r.trigger.id}</code>
                    </span>
                  ) : r.parentRunId ? (
                    <span>
                      child of{' '}
                      <Link to={`/runs/${encodeURIComponent(r.parentRunId)}`}>
                        <code>{shortRunId(r.parentRunId)}</code>
                      </Link>
                    </span>
                  ) : (
                    <span>manual{r.createdBy ? ` · ${r.createdBy}` : ''}</span>
                  )}
                </td>
                <td>
                  <code className="input-preview" title={r.inputPreview}>
                    {r.inputPreview}
                  </code>
                </td>
                <td>
                  <button type="button" className="small-button" onClick={() => onRerun(r.id)}>
                    Re-run with this input
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {cursor && (
        <button type="button" onClick={() => void loadMore()}>
          Load more
        </button>
      )}
    </>
  );
}

function orderedPair(pair: RunHistoryItem[]): [string, string] {
  const [x, y] = pair as [RunHistoryItem, RunHistoryItem];
  return x.createdAt <= y.createdAt ? [x.id, y.id] : [y.id, x.id];
}
