/** A workflow's run history (status, started, duration, cost, version) and the start-run form. */
import { useState } from 'react';
import { useApi } from '../app/context.ts';
import { formatCost, formatDuration, formatTime } from '../app/format.ts';
import { navigate } from '../app/navigation.ts';
import { useAsync } from '../app/use-async.ts';
import { EmptyState, ErrorBanner, Loading, StatusBadge } from '../components/Feedback.tsx';
import { Link } from '../components/Layout.tsx';
import { StartRunForm } from '../components/StartRunForm.tsx';
import { recordRunDurationMs } from '../run/durations.ts';

export function Runs({ workflowId }: { workflowId: string }) {
  const api = useApi();
  const wf = useAsync(() => api.getWorkflow(workflowId), [api, workflowId]);
  const runs = useAsync(() => api.listRuns(workflowId, { limit: 100 }), [api, workflowId]);
  const [starting, setStarting] = useState(false);
  const [error, setError] = useState<unknown>(undefined);

  async function start(input: unknown) {
    setError(undefined);
    try {
      const run = await api.startRun(workflowId, input);
      navigate(`/runs/${encodeURIComponent(run.id)}`);
    } catch (err) {
      setError(err);
    }
  }

  return (
    <>
      <div className="page-head">
        <h1>Runs{wf.data ? ` of ${wf.data.name ?? wf.data.definition.name}` : ''}</h1>
        <Link to={`/workflows/${encodeURIComponent(workflowId)}`}>Open in builder</Link>
        <button type="button" className="primary" onClick={() => setStarting(!starting)} aria-expanded={starting}>
          Start run
        </button>
      </div>
      <ErrorBanner
        error={wf.error ?? runs.error}
        onRetry={() => {
          wf.reload();
          runs.reload();
        }}
      />
      <ErrorBanner error={error} />
      {starting && wf.data && (
        <div className="card">
          <StartRunForm schema={wf.data.definition.inputSchema} onStart={start} onCancel={() => setStarting(false)} />
        </div>
      )}
      {runs.loading && !runs.data && <Loading what="runs" />}
      {runs.data?.items.length === 0 && (
        <EmptyState title="No runs yet">
          <p>Start a run to see it here.</p>
        </EmptyState>
      )}
      {runs.data && runs.data.items.length > 0 && (
        <table className="table" aria-label="Runs">
          <thead>
            <tr>
              <th>Run</th>
              <th>Status</th>
              <th>Started</th>
              <th>Duration</th>
              <th>Cost</th>
              <th>Version</th>
              <th>Started by</th>
            </tr>
          </thead>
          <tbody>
            {runs.data.items.map((r) => (
              <tr key={r.id}>
                <td>
                  <Link to={`/runs/${encodeURIComponent(r.id)}`}>
                    <code>{r.id.slice(0, 8)}</code>
                  </Link>
                </td>
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
                      {r.trigger.type === 'schedule' ? 'schedule' : 'webhook'} <code>{r.trigger.id}</code>
                    </span>
                  ) : (
                    (r.createdBy ?? '')
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
