/** MCP tool servers: register one (Streamable HTTP URL) and browse its tools. */
import { type FormEvent, useState } from 'react';
import { isMissingRoute } from '../api/problem.ts';
import { seedNewWorkflow, workflowWithTool } from '../app/agent-skills.ts';
import { useApi } from '../app/context.ts';
import { navigate } from '../app/navigation.ts';
import { useAsync } from '../app/use-async.ts';
import { EmptyState, ErrorBanner, Loading } from '../components/Feedback.tsx';
import { schemaProperties } from '../editor/binding-values.ts';
import { parseHeaderLines } from '../editor/headers-text.ts';
import { SecretRefList } from './SecretRefList.tsx';

export function Tools() {
  const api = useApi();
  const list = useAsync(() => api.listToolServers(), [api]);
  const [url, setUrl] = useState('');
  const [name, setName] = useState('');
  const [headersText, setHeadersText] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);

  async function register(e: FormEvent) {
    e.preventDefault();
    setError(undefined);
    if (!/^[A-Za-z0-9_.-]+$/.test(name.trim())) {
      setError(new Error('Name the server with letters, digits, dots, dashes or underscores; tools are called "<name>/<tool>".'));
      return;
    }
    if (!/^https?:\/\//.test(url.trim())) {
      setError(new Error('Enter the MCP server’s Streamable HTTP URL, starting with http:// or https://'));
      return;
    }
    const { headers, error: headerError } = parseHeaderLines(headersText);
    if (headerError) {
      setError(new Error(`Headers: ${headerError}`));
      return;
    }
    setBusy(true);
    try {
      await api.registerToolServer(name.trim(), url.trim(), headers);
      setUrl('');
      setName('');
      setHeadersText('');
      list.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  async function remove(id: string) {
    setError(undefined);
    try {
      await api.deleteToolServer(id);
      list.reload();
    } catch (err) {
      setError(err);
    }
  }

  return (
    <>
      <div className="page-head">
        <h1>Tools</h1>
      </div>
      <form className="inline-form" onSubmit={register} aria-label="Register an MCP server">
        <label>
          Server name
          <input value={name} onChange={(e) => setName(e.target.value)} placeholder="pricing" />
        </label>
        <label>
          MCP URL
          <input value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://tools.example.com/mcp" />
        </label>
        <label>
          Headers (optional, one per line)
          <textarea
            rows={2}
            value={headersText}
            onChange={(e) => setHeadersText(e.target.value)}
            placeholder="Authorization: Bearer {{ $secrets.TOOLS_TOKEN }}"
            aria-describedby="tools-auth-help"
          />
        </label>
        <SecretRefList id="tools-secret-refs" />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Registering…' : 'Register server'}
        </button>
      </form>
      <p id="tools-auth-help" className="muted small">
        Headers go on every request to the server. Put credentials in as <code>{'{{ $secrets.NAME }}'}</code> (a global secret,
        see Secrets): the value is resolved per connection and never stored with the registration.
      </p>
      <ErrorBanner error={error} />
      {isMissingRoute(list.error) ? (
        <EmptyState title="Not available on this server">
          <p>This server does not serve the tool server registry (its routes answered 404).</p>
        </EmptyState>
      ) : (
        <ErrorBanner error={list.error} onRetry={list.reload} />
      )}
      {list.loading && !list.data && <Loading what="tool servers" />}
      {list.data?.length === 0 && (
        <EmptyState title="No tool servers registered">
          <p>
            Register an MCP server to call its tools from <code>tool_call</code> nodes. The built-in <code>http.request</code> is
            always available.
          </p>
        </EmptyState>
      )}
      <ul className="cards" aria-label="Tool servers">
        {list.data?.map((s) => (
          <li key={s.id} className="card">
            <h2>{s.name}</h2>
            <p className="muted small">{s.url ?? s.command}</p>
            {s.tools.length === 0 ? (
              <p className="muted">No tools.</p>
            ) : (
              <ul className="skills" aria-label={`Tools of ${s.name}`}>
                {s.tools.map((t) => {
                  const full = t.name.includes('/') ? t.name : `${s.name}/${t.name}`;
                  const fields = schemaProperties(t.inputSchema);
                  return (
                    <li key={t.name}>
                      <code>{full}</code>
                      {t.description && <div className="small">{t.description}</div>}
                      {fields.length > 0 && (
                        <table className="schema-fields small" aria-label={`Input of ${full}`}>
                          <tbody>
                            {fields.map((f) => (
                              <tr key={f.name}>
                                <td>
                                  <code>{f.name}</code>
                                  {f.required && <abbr title="required"> *</abbr>}
                                </td>
                                <td className="muted">{f.type ?? 'any'}</td>
                                <td>{f.description ?? ''}</td>
                              </tr>
                            ))}
                          </tbody>
                        </table>
                      )}
                      <button
                        type="button"
                        className="small-button"
                        onClick={() => {
                          seedNewWorkflow(window.sessionStorage, workflowWithTool({ ...t, name: full }));
                          navigate('/workflows/new');
                        }}
                      >
                        New workflow with this tool
                      </button>
                    </li>
                  );
                })}
              </ul>
            )}
            <button type="button" className="danger" onClick={() => remove(s.id)} aria-label={`Remove server ${s.name}`}>
              Remove
            </button>
          </li>
        ))}
      </ul>
    </>
  );
}
