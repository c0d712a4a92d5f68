/** The templates gallery: reusable workflow patterns; instantiating one opens it in the builder. */
import { useState } from 'react';
import { useApi } from '../app/context.ts';
import { navigate } from '../app/navigation.ts';
import { useAsync } from '../app/use-async.ts';
import { EmptyState, ErrorBanner, Loading } from '../components/Feedback.tsx';

export function Templates() {
  const api = useApi();
  const list = useAsync(() => api.listTemplates(), [api]);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState<string | undefined>(undefined);

  async function use(id: string) {
    setBusy(id);
    setError(undefined);
    try {
      const wf = await api.instantiateTemplate(id);
      navigate(`/workflows/${encodeURIComponent(wf.id)}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(undefined);
    }
  }

  return (
    <>
      <div className="page-head">
        <h1>Templates</h1>
      </div>
      <ErrorBanner error={list.error} onRetry={list.reload} />
      <ErrorBanner error={error} />
      {list.loading && !list.data && <Loading what="templates" />}
      {list.data?.length === 0 && (
        <EmptyState title="No templates">
          <p>Templates are reusable workflow patterns; the server has none yet.</p>
        </EmptyState>
      )}
      <ul className="cards" aria-label="Templates">
        {list.data?.map((t) => (
          <li key={t.id} className="card">
            <h2>{t.name}</h2>
            {t.description && <p>{t.description}</p>}
            {t.tags && t.tags.length > 0 && (
              <p className="tags">
                {t.tags.map((tag) => (
                  <span key={tag} className="tag">
                    {tag}
                  </span>
                ))}
              </p>
            )}
            {Array.isArray(t.definition?.nodes) && <p className="muted small">{t.definition.nodes.length} nodes</p>}
            <button
              type="button"
              className="primary"
              disabled={busy === t.id}
              onClick={() => use(t.id)}
              aria-label={`Use template ${t.name}`}
            >
              {busy === t.id ? 'Creating…' : 'Use template'}
            </button>
          </li>
        ))}
      </ul>
    </>
  );
}
