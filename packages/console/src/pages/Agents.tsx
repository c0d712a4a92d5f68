/** The agent registry: register an A2A agent by its URL and browse its skills. */
import { type FormEvent, useState } from 'react';
import { isMissingRoute } from '../api/problem.ts';
import { agentDescription, seedNewWorkflow, workflowWithSkill } from '../app/agent-skills.ts';
import { useApi } from '../app/context.ts';
import { navigate } from '../app/navigation.ts';
import { useAsync } from '../app/use-async.ts';
import { EmptyState, ErrorBanner, Loading } from '../components/Feedback.tsx';
import { SkillDetails } from '../components/SkillDetails.tsx';
import { parseHeaderLines } from '../editor/headers-text.ts';
import { SecretRefList } from './SecretRefList.tsx';

export function Agents() {
  const api = useApi();
  const list = useAsync(() => api.listAgents(), [api]);
  const [url, setUrl] = useState('');
  const [name, setName] = useState('');
  const [headersText, setHeadersText] = useState('');
  const [credential, setCredential] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);

  async function register(e: FormEvent) {
    e.preventDefault();
    setError(undefined);
    if (!/^https?:\/\//.test(url.trim())) {
      setError(new Error('Enter the agent’s base URL, starting with http:// or https://'));
      return;
    }
    const { headers, error: headerError } = parseHeaderLines(headersText);
    if (headerError) {
      setError(new Error(`Headers: ${headerError}`));
      return;
    }
    setBusy(true);
    try {
      await api.registerAgent(url.trim(), name.trim() || undefined, { headers, credential: credential.trim() || undefined });
      setUrl('');
      setName('');
      setHeadersText('');
      setCredential('');
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
      await api.deleteAgent(id);
      list.reload();
    } catch (err) {
      setError(err);
    }
  }

  return (
    <>
      <div className="page-head">
        <h1>Agents</h1>
      </div>
      <form className="inline-form" onSubmit={register} aria-label="Register an agent">
        <label>
          Agent URL
          <input value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://agent.example.com" />
        </label>
        <label>
          Name (optional)
          <input value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label>
          Credential (optional)
          <input
            list="agent-secret-refs"
            value={credential}
            onChange={(e) => setCredential(e.target.value)}
            placeholder="{{ $secrets.AGENT_TOKEN }}"
            aria-describedby="agent-auth-help"
          />
        </label>
        <label>
          Headers (optional, one per line)
          <textarea
            rows={2}
            value={headersText}
            onChange={(e) => setHeadersText(e.target.value)}
            placeholder="Authorization: Bearer {{ $secrets.AGENT_TOKEN }}"
            aria-describedby="agent-auth-help"
          />
        </label>
        <SecretRefList id="agent-secret-refs" />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Registering…' : 'Register agent'}
        </button>
      </form>
      <p id="agent-auth-help" className="muted small">
        For an agent behind authentication: a credential goes in the header its agent card's security scheme names (HTTP Bearer →{' '}
        <code>Authorization: Bearer …</code>, API key → its header); or give the headers yourself. Use{' '}
        <code>{'{{ $secrets.NAME }}'}</code> (a global secret, see Secrets) — never paste the key itself.
      </p>
      <ErrorBanner error={error} />
      {isMissingRoute(list.error) ? (
        <EmptyState title="Not available on this server">
          <p>This server does not serve the agent registry (its routes answered 404).</p>
        </EmptyState>
      ) : (
        <ErrorBanner error={list.error} onRetry={list.reload} />
      )}
      {list.loading && !list.data && <Loading what="agents" />}
      {list.data?.length === 0 && (
        <EmptyState title="No agents registered">
          <p>Register an A2A agent by its URL; Trellis reads its agent card and lists its skills.</p>
        </EmptyState>
      )}
      <ul className="cards" aria-label="Agents">
        {list.data?.map((a) => (
          <li key={a.id} className="card">
            <h2>{a.name}</h2>
            <p className="muted small">{a.url}</p>
            {agentDescription(a) && <p className="agent-description">{agentDescription(a)}</p>}
            {a.headers && Object.keys(a.headers).length > 0 && (
              <p className="small">
                <span className="muted">Headers: </span>
                {Object.entries(a.headers).map(([k, v]) => (
                  <code key={k}>
                    {k}: {v}
                  </code>
                ))}
              </p>
            )}
            {a.skills.length === 0 ? (
              <p className="muted">No skills advertised.</p>
            ) : (
              <ul className="skills" aria-label={`Skills of ${a.name}`}>
                {a.skills.map((s) => (
                  <li key={s.id}>
                    <strong>{s.name ?? s.id}</strong> <code>{s.id}</code>
                    <SkillDetails agent={a} skillId={s.id} />
                    <button
                      type="button"
                      className="small-button"
                      onClick={() => {
                        seedNewWorkflow(window.sessionStorage, workflowWithSkill(a, s));
                        navigate('/workflows/new');
                      }}
                    >
                      New workflow with this skill
                    </button>
                  </li>
                ))}
              </ul>
            )}
            <button type="button" className="danger" onClick={() => remove(a.id)} aria-label={`Remove agent ${a.name}`}>
              Remove
            </button>
          </li>
        ))}
      </ul>
    </>
  );
}
