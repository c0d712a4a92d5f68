/**
 * Secrets: names, scopes and descriptions; set, replace and delete. A value is typed once into a
 * password field and sent; the API never returns one, so this page cannot show one.
 */
import { type FormEvent, useState } from 'react';
import { isMissingRoute } from '../api/problem.ts';
import { useApi } from '../app/context.ts';
import { formatTime } from '../app/format.ts';
import { useAsync } from '../app/use-async.ts';
import { EmptyState, ErrorBanner, Loading } from '../components/Feedback.tsx';
import { secretRef } from '../editor/headers-text.ts';

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

export function Secrets() {
  const api = useApi();
  const list = useAsync(() => api.listSecrets(), [api]);
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const [description, setDescription] = useState('');
  const [scope, setScope] = useState('global');
  const [error, setError] = useState<unknown>(undefined);
  const [info, setInfo] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);

  async function save(e: FormEvent) {
    e.preventDefault();
    setError(undefined);
    setInfo(undefined);
    if (!NAME.test(name.trim())) {
      setError(new Error('Name the secret with letters, digits and _ (not starting with a digit), e.g. WEATHER_API_KEY.'));
      return;
    }
    if (value === '') {
      setError(new Error('Enter the value to store (it is encrypted and never shown again).'));
      return;
    }
    const s = scope.trim() || 'global';
    if (s !== 'global' && !/^workflow:[A-Za-z0-9_-]+$/.test(s)) {
      setError(new Error('Scope is "global" or "workflow:<workflow id>".'));
      return;
    }
    setBusy(true);
    try {
      const saved = await api.putSecret(name.trim(), { value, scope: s, ...(description.trim() ? { description } : {}) });
      setInfo(`Saved ${saved.name}. Use it as ${secretRef(saved.name)}.`);
      setName('');
      setValue('');
      setDescription('');
      list.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  async function remove(secretName: string) {
    setError(undefined);
    setInfo(undefined);
    try {
      await api.deleteSecret(secretName);
      list.reload();
    } catch (err) {
      setError(err);
    }
  }

  const items = list.data?.items ?? [];
  return (
    <>
      <div className="page-head">
        <h1>Secrets</h1>
      </div>
      <p className="muted">
        Credentials for HTTP APIs, agents and tool servers. Reference one as <code>{'{{ $secrets.NAME }}'}</code> in an
        http.request node's header values or URL query, or in the headers of an agent or tool-server registration. Values are
        encrypted at rest and never shown again — runs, events and logs show <code>[secret:NAME]</code> instead.
      </p>
      <form className="inline-form" onSubmit={save} aria-label="Set a secret">
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} placeholder="WEATHER_API_KEY" autoComplete="off" />
        </label>
        <label>
          Value
          <input type="password" value={value} onChange={(e) => setValue(e.target.value)} autoComplete="new-password" />
        </label>
        <label>
          Scope
          <input
            value={scope}
            onChange={(e) => setScope(e.target.value)}
            placeholder="global or workflow:<id>"
            aria-describedby="secret-scope-help"
          />
        </label>
        <label>
          Description (optional)
          <input value={description} onChange={(e) => setDescription(e.target.value)} />
        </label>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Saving…' : 'Set secret'}
        </button>
      </form>
      <p id="secret-scope-help" className="muted small">
        Global secrets (administrators) may be used by every workflow and by registrations; a workflow's owner may set secrets
        scoped to it (<code>workflow:&lt;id&gt;</code>). Setting an existing name replaces its value.
      </p>
      {info && (
        <p className="banner" role="status">
          {info}
        </p>
      )}
      <ErrorBanner error={error} />
      {isMissingRoute(list.error) ? (
        <EmptyState title="Not available on this server">
          <p>This server does not serve secrets (its routes answered 404).</p>
        </EmptyState>
      ) : (
        <ErrorBanner error={list.error} onRetry={list.reload} />
      )}
      {list.loading && !list.data && <Loading what="secrets" />}
      {list.data && !list.data.available && (
        <EmptyState title="Secrets are off on this server">
          <p>
            Start every Trellis process sharing the database with <code>TRELLIS_SECRET_KEY</code> (a 256-bit key;{' '}
            <code>trellis secrets generate-key</code> prints one).
          </p>
        </EmptyState>
      )}
      {list.data?.available && items.length === 0 && (
        <EmptyState title="No secrets yet">
          <p>Set one above, then reference it from a workflow or a registration.</p>
        </EmptyState>
      )}
      {items.length > 0 && (
        <table className="table" aria-label="Secrets">
          <thead>
            <tr>
              <th>Name</th>
              <th>Scope</th>
              <th>Description</th>
              <th>Updated</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {items.map((s) => (
              <tr key={s.name}>
                <td>
                  <code>{s.name}</code>
                </td>
                <td>{s.scope}</td>
                <td>{s.description ?? ''}</td>
                <td>
                  {formatTime(s.updatedAt)} <span className="muted small">by {s.updatedBy}</span>
                </td>
                <td>
                  <button
                    type="button"
                    onClick={() => {
                      setName(s.name);
                      setScope(s.scope);
                      setDescription(s.description ?? '');
                    }}
                    aria-label={`Replace ${s.name}`}
                  >
                    Replace
                  </button>{' '}
                  <button type="button" className="danger" onClick={() => remove(s.name)} aria-label={`Delete secret ${s.name}`}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
