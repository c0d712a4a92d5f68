/**
 * The templates gallery: reusable workflow patterns, each with a preview of its graph.
 * "Use template" opens a dialog with the graph, the nodes and a name for the new workflow
 * (unique among the user's workflows: `hotel-search`, `hotel-search-2`…); creating it opens it
 * in the builder.
 */
import { useEffect, useRef, useState } from 'react';
import type { Template } from '../api/types.ts';
import { useApi } from '../app/context.ts';
import { navigate } from '../app/navigation.ts';
import { useAsync } from '../app/use-async.ts';
import { uniqueName } from '../app/workflow-names.ts';
import { EmptyState, ErrorBanner, Loading } from '../components/Feedback.tsx';
import { TemplatePreview } from '../components/TemplatePreview.tsx';

export function Templates() {
  const api = useApi();
  const list = useAsync(() => api.listTemplates(), [api]);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState<string | undefined>(undefined);
  const [chosen, setChosen] = useState<Template | undefined>(undefined);

  async function use(id: string, name: string) {
    setBusy(id);
    setError(undefined);
    try {
      const wf = await api.instantiateTemplate(id, name);
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
            <TemplatePreview definition={t.definition} />
            {Array.isArray(t.definition?.nodes) && <p className="muted small">{t.definition.nodes.length} nodes</p>}
            <button
              type="button"
              className="primary"
              disabled={busy === t.id}
              onClick={() => setChosen(t)}
              aria-label={`Use template ${t.name}`}
            >
              Use template
            </button>
          </li>
        ))}
      </ul>
      {chosen && (
        <UseTemplateDialog
          template={chosen}
          busy={busy === chosen.id}
          onCancel={() => setChosen(undefined)}
          onCreate={(name) => use(chosen.id, name)}
        />
      )}
    </>
  );
}

function UseTemplateDialog({
  template,
  busy,
  onCancel,
  onCreate,
}: {
  template: Template;
  busy: boolean;
  onCancel: () => void;
  onCreate: (name: string) => void;
}) {
  const api = useApi();
  const [name, setName] = useState(template.name);
  const [taken, setTaken] = useState<Set<string> | undefined>(undefined);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    let live = true;
    api
      .listWorkflows({ limit: 200, q: template.name })
      .then((p) => {
        if (!live) return;
        const names = new Set(p.items.map((w) => w.name));
        setTaken(names);
        setName(uniqueName(template.name, names));
      })
      .catch(() => live && setTaken(new Set()));
    input.current?.focus();
    return () => {
      live = false;
    };
  }, [api, template.name]);
  const clash = taken?.has(name.trim()) ?? false;
  const nodes = Array.isArray(template.definition?.nodes) ? (template.definition.nodes as { id: string; type: string }[]) : [];
  return (
    <div className="overlay">
      <form
        className="overlay-box"
        role="dialog"
        aria-modal="true"
        aria-label={`Use template ${template.name}`}
        onKeyDown={(e) => e.key === 'Escape' && onCancel()}
        onSubmit={(e) => {
          e.preventDefault();
          if (name.trim() && !clash) onCreate(name.trim());
        }}
      >
        <h2>{template.name}</h2>
        {template.description && <p>{template.description}</p>}
        <TemplatePreview definition={template.definition} />
        <p className="muted small">{nodes.map((n) => `${n.id} (${n.type})`).join(' → ') || 'No nodes.'}</p>
        <label>
          Name of the new workflow
          <input ref={input} value={name} onChange={(e) => setName(e.target.value)} aria-invalid={clash ? true : undefined} />
          {clash && <span className="field-error">You already have a workflow with this name.</span>}
        </label>
        <div className="row">
          <button type="submit" className="primary" disabled={busy || !name.trim() || clash}>
            {busy ? 'Creating…' : 'Create workflow'}
          </button>
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </div>
  );
}
