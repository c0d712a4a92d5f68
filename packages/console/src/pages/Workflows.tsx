/** The workflows list: search, last run status, version, updated time; create, duplicate, delete. */
import { useMemo, useState } from 'react';
import type { WorkflowSummary } from '../api/types.ts';
import { useApi } from '../app/context.ts';
import { formatTime } from '../app/format.ts';
import { navigate } from '../app/navigation.ts';
import { useAsync } from '../app/use-async.ts';
import { disambiguators } from '../app/workflow-names.ts';
import { EmptyState, ErrorBanner, Loading, StatusBadge } from '../components/Feedback.tsx';
import { Link } from '../components/Layout.tsx';

export function Workflows() {
  const api = useApi();
  const list = useAsync(() => api.listWorkflows({ limit: 200 }), [api]);
  const [q, setQ] = useState('');
  const [actionError, setActionError] = useState<unknown>(undefined);

  const items = useMemo(() => {
    const all = list.data?.items ?? [];
    const needle = q.trim().toLowerCase();
    if (!needle) return all;
    return all.filter((w) => `${w.name} ${w.description ?? ''} ${w.id}`.toLowerCase().includes(needle));
  }, [list.data, q]);
  const tellApart = useMemo(() => disambiguators(list.data?.items ?? []), [list.data]);

  async function duplicate(id: string) {
    setActionError(undefined);
    try {
      const wf = await api.getWorkflow(id);
      const created = await api.createWorkflow({ ...wf.definition, name: `${wf.definition.name} (copy)` });
      navigate(`/workflows/${encodeURIComponent(created.id)}`);
    } catch (err) {
      setActionError(err);
    }
  }

  async function remove(id: string, name: string) {
    if (!window.confirm(`Delete workflow "${name}"? Its unfinished runs are cancelled; every run stays readable.`)) return;
    setActionError(undefined);
    try {
      await api.deleteWorkflow(id);
      list.reload();
    } catch (err) {
      setActionError(err);
    }
  }

  return (
    <>
      <div className="page-head">
        <h1>Workflows</h1>
        <input
          type="search"
          placeholder="Search workflows"
          aria-label="Search workflows"
          value={q}
          onChange={(e) => setQ(e.target.value)}
        />
        <button type="button" className="primary" onClick={() => navigate('/workflows/new')}>
          New workflow
        </button>
      </div>
      <ErrorBanner error={list.error} onRetry={list.reload} />
      <ErrorBanner error={actionError} />
      {list.loading && !list.data && <Loading what="workflows" />}
      {list.data && list.data.items.length === 0 && (
        <EmptyState title="No workflows yet">
          <p>Build one on the canvas, or start from a template.</p>
          <p>
            <button type="button" className="primary" onClick={() => navigate('/workflows/new')}>
              New workflow
            </button>{' '}
            <button type="button" onClick={() => navigate('/templates')}>
              Browse templates
            </button>
          </p>
        </EmptyState>
      )}
      {list.data && list.data.items.length > 0 && items.length === 0 && (
        <EmptyState title="No match">
          <p>No workflow matches “{q}”.</p>
        </EmptyState>
      )}
      {items.length > 0 && (
        <table className="table" aria-label="Workflows">
          <thead>
            <tr>
              <th>Name</th>
              <th>Last run</th>
              <th>Version</th>
              <th>Updated</th>
              <th>
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((w) => (
              <tr key={w.id}>
                <td>
                  <Link to={`/workflows/${encodeURIComponent(w.id)}`}>{w.name}</Link>
                  {tellApart.has(w.id) && (
                    <span className="muted small" title={`workflow ${w.id}${w.owner ? `, owned by ${w.owner}` : ''}`}>
                      {' '}
                      ({tellApart.get(w.id)})
                    </span>
                  )}
                  {w.triggers && w.triggers.schedule + w.triggers.webhook > 0 && (
                    <span className="badge" title="Active triggers start runs of this workflow">
                      {[
                        w.triggers.schedule ? `${w.triggers.schedule} schedule${w.triggers.schedule > 1 ? 's' : ''}` : '',
                        w.triggers.webhook ? `${w.triggers.webhook} webhook${w.triggers.webhook > 1 ? 's' : ''}` : '',
                      ]
                        .filter(Boolean)
                        .join(' · ')}
                    </span>
                  )}
                  {w.description && <div className="muted small">{w.description}</div>}
                </td>
                <td>
                  <LastRun workflowId={w.id} known={w.lastRun} />
                </td>
                <td>v{w.version}</td>
                <td>{formatTime(w.updatedAt ?? w.createdAt)}</td>
                <td>
                  <div className="actions">
                    <Link to={`/workflows/${encodeURIComponent(w.id)}/runs`}>Runs</Link>
                    <button type="button" onClick={() => duplicate(w.id)} aria-label={`Duplicate ${w.name}`}>
                      Duplicate
                    </button>
                    <button type="button" className="danger" onClick={() => remove(w.id, w.name)} aria-label={`Delete ${w.name}`}>
                      Delete
                    </button>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

/**
 * The last run's status. The list endpoint may include it (`lastRun`); otherwise it is read
 * with a one-item run history request per row.
 */
function LastRun({ workflowId, known }: { workflowId: string; known: WorkflowSummary['lastRun'] }) {
  const api = useApi();
  // `null` from the server means "never run"; only an older server leaves it out (undefined).
  const last = useAsync(
    async () => (known !== undefined ? known : (await api.listRuns(workflowId, { limit: 1 })).items[0]),
    [api, workflowId, known],
  );
  if (last.loading) return <span className="muted">…</span>;
  if (!last.data) return <span className="muted">never run</span>;
  return (
    <Link to={`/runs/${encodeURIComponent(last.data.id)}`}>
      <StatusBadge status={last.data.status} />
    </Link>
  );
}
