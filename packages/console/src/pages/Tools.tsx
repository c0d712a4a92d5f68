/**
 * MCP tool servers: register one — a Streamable HTTP URL (anyone), or a stdio command with its
 * arguments, environment and working directory (administrators: it starts a process on the
 * Trellis host) — with its session scope, and browse its tools.
 */
import { type FormEvent, useState } from 'react';
import { isMissingRoute } from '../api/problem.ts';
import type { ToolServer } from '../api/types.ts';
import { seedNewWorkflow, workflowWithTool } from '../app/agent-skills.ts';
import { useApi } from '../app/context.ts';
import { navigate } from '../app/navigation.ts';
import { useAsync } from '../app/use-async.ts';
import { EmptyState, ErrorBanner, Loading } from '../components/Feedback.tsx';
import { schemaProperties } from '../editor/binding-values.ts';
import { parseArgLines, parseEnvLines, parseHeaderLines } from '../editor/headers-text.ts';
import { SecretRefList } from './SecretRefList.tsx';

type Transport = 'http' | 'stdio';
type Sessions = 'run' | 'shared';

export function Tools() {
  const api = useApi();
  const list = useAsync(() => api.listToolServers(), [api]);
  // Only administrators may register stdio servers: others are not offered the choice.
  const me = useAsync(() => api.me(), [api]);
  const isAdmin = me.data?.isAdmin === true;
  const [transport, setTransport] = useState<Transport>('http');
  const [url, setUrl] = useState('');
  const [name, setName] = useState('');
  const [headersText, setHeadersText] = useState('');
  const [command, setCommand] = useState('');
  const [argsText, setArgsText] = useState('');
  const [envText, setEnvText] = useState('');
  const [cwd, setCwd] = useState('');
  const [sessions, setSessions] = useState<Sessions>('run');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const stdio = isAdmin && transport === 'stdio';

  async function register(e: FormEvent) {
    e.preventDefault();
    setError(undefined);
    if (!/^[A-Za-z0-9_.-]+$/.test(name.trim())) {
      setError(new Error('Name the server with letters, digits, dots, dashes or underscores; tools are called "<name>/<tool>".'));
      return;
    }
    let registration: Parameters<typeof api.registerToolServer>[0];
    if (stdio) {
      if (command.trim() === '') {
        setError(new Error('Enter the command that starts the stdio MCP server (e.g. /usr/bin/node).'));
        return;
      }
      const { env, error: envError } = parseEnvLines(envText);
      if (envError) {
        setError(new Error(`Environment: ${envError}`));
        return;
      }
      if (cwd.trim() !== '' && !cwd.trim().startsWith('/')) {
        setError(new Error('Working directory: give an absolute path (starting with /), or leave it empty.'));
        return;
      }
      registration = {
        name: name.trim(),
        command: command.trim(),
        args: parseArgLines(argsText),
        env,
        cwd: cwd.trim(),
        sessions,
      };
    } else {
      if (!/^https?:\/\//.test(url.trim())) {
        setError(new Error('Enter the MCP server’s Streamable HTTP URL, starting with http:// or https://'));
        return;
      }
      const { headers, error: headerError } = parseHeaderLines(headersText);
      if (headerError) {
        setError(new Error(`Headers: ${headerError}`));
        return;
      }
      registration = { name: name.trim(), url: url.trim(), headers, sessions };
    }
    setBusy(true);
    try {
      await api.registerToolServer(registration);
      setUrl('');
      setName('');
      setHeadersText('');
      setCommand('');
      setArgsText('');
      setEnvText('');
      setCwd('');
      setSessions('run');
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
        {isAdmin && (
          <label>
            Transport
            <select aria-label="Transport" value={transport} onChange={(e) => setTransport(e.target.value as Transport)}>
              <option value="http">Streamable HTTP (a URL)</option>
              <option value="stdio">stdio (a command on the Trellis host)</option>
            </select>
          </label>
        )}
        <label>
          Server name
          <input value={name} onChange={(e) => setName(e.target.value)} placeholder="pricing" />
        </label>
        {stdio ? (
          <>
            <label>
              Command
              <input value={command} onChange={(e) => setCommand(e.target.value)} placeholder="/usr/bin/node" />
            </label>
            <label>
              Arguments (one per line)
              <textarea
                rows={2}
                value={argsText}
                onChange={(e) => setArgsText(e.target.value)}
                placeholder="/srv/mcp/server.js"
              />
            </label>
            <label>
              Environment (optional, NAME=value per line)
              <textarea
                rows={2}
                value={envText}
                onChange={(e) => setEnvText(e.target.value)}
                placeholder="API_TOKEN={{ $secrets.TOOLS_TOKEN }}"
                aria-describedby="tools-stdio-help"
              />
            </label>
            <label>
              Working directory (optional)
              <input value={cwd} onChange={(e) => setCwd(e.target.value)} placeholder="/srv/mcp" />
            </label>
          </>
        ) : (
          <>
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
          </>
        )}
        <label>
          Sessions
          <select
            aria-label="Sessions"
            value={sessions}
            onChange={(e) => setSessions(e.target.value as Sessions)}
            aria-describedby="tools-sessions-help"
          >
            <option value="run">One per run (default)</option>
            <option value="shared">Shared by every run (stateless servers only)</option>
          </select>
        </label>
        <SecretRefList id="tools-secret-refs" />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Registering…' : 'Register server'}
        </button>
      </form>
      {stdio ? (
        <p id="tools-stdio-help" className="muted small">
          The process starts on the Trellis host with a minimal environment plus these variables. Put credentials in as{' '}
          <code>{'{{ $secrets.NAME }}'}</code> (a global secret): the value is resolved when the process starts and never shown
          again — other values are shown as <code>[hidden]</code>.
        </p>
      ) : (
        <p id="tools-auth-help" className="muted small">
          Headers go on every request to the server. Put credentials in as <code>{'{{ $secrets.NAME }}'}</code> (a global secret,
          see Secrets): the value is resolved per connection and never stored with the registration.
        </p>
      )}
      <p id="tools-sessions-help" className="muted small">
        <strong>One per run</strong>: each run gets its own MCP session{stdio ? ' (its own process)' : ''}, closed when the run
        ends, so state a tool keeps (a working directory, a login) never reaches another run or user. <strong>Shared</strong>: one
        session for every run — only for a server whose tools keep no state between calls.
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
            <ServerFacts server={s} />
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

/** Where a server is, how its sessions are scoped, and (for those allowed to see them) a stdio server's settings. */
function ServerFacts({ server: s }: { server: ToolServer }) {
  const env = Object.entries(s.env ?? {});
  return (
    <dl className="facts small" aria-label={`Settings of ${s.name}`}>
      <dt>{s.command ? 'Command' : 'URL'}</dt>
      <dd>
        <code>{s.url ?? [s.command, ...(s.args ?? [])].join(' ')}</code>
      </dd>
      <dt>Sessions</dt>
      <dd>{s.sessions === 'shared' ? 'shared by every run' : 'one per run'}</dd>
      {env.length > 0 && (
        <>
          <dt>Environment</dt>
          <dd>
            {env.map(([k, v]) => (
              <div key={k}>
                <code>
                  {k}={v}
                </code>
              </div>
            ))}
          </dd>
        </>
      )}
      {s.cwd && (
        <>
          <dt>Working directory</dt>
          <dd>
            <code>{s.cwd}</code>
          </dd>
        </>
      )}
    </dl>
  );
}
