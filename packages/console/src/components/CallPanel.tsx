/**
 * "How to call it": a workflow's MCP tool name and the `/mcp` URL, its A2A card and endpoint,
 * and copyable snippets (MCP host configurations, an MCP tools/call, an A2A call with curl and
 * with @a2a-js/sdk). Shown on the workflow's runs page.
 */
import { useMemo, useState } from 'react';
import { useApi } from '../app/context.ts';
import { useAsync } from '../app/use-async.ts';
import { type CallInfo, callSnippets } from '../call/snippets.ts';
import { ErrorBanner, Loading } from './Feedback.tsx';

function CopyButton({ text, label }: { text: string; label: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  return (
    <button
      type="button"
      aria-label={label}
      onClick={() => {
        navigator.clipboard?.writeText(text).then(
          () => setState('copied'),
          () => setState('failed'),
        ) ?? setState('failed');
      }}
    >
      {state === 'copied' ? 'Copied' : state === 'failed' ? 'Select and copy' : 'Copy'}
    </button>
  );
}

export function CallPanel({ workflowId, inputSchema }: { workflowId: string; inputSchema: unknown }) {
  const api = useApi();
  const info = useAsync((): Promise<CallInfo> => api.callInfo(workflowId), [api, workflowId]);
  const snippets = useMemo(() => (info.data ? callSnippets(info.data, inputSchema) : []), [info.data, inputSchema]);
  const [selected, setSelected] = useState('mcp-vscode');
  const shown = snippets.find((s) => s.id === selected) ?? snippets[0];
  if (info.loading && !info.data) return <Loading what="how to call it" />;
  if (!info.data) return <ErrorBanner error={info.error} onRetry={info.reload} />;
  const d = info.data;
  return (
    <section className="card call-panel" aria-label="How to call it">
      <h2>How to call it</h2>
      <dl className="kv">
        <dt>MCP tool</dt>
        <dd>
          {d.mcp.toolName ? (
            <code data-field="mcp-tool">{d.mcp.toolName}</code>
          ) : (
            <span className="muted">not in your tool list: you need the runner role</span>
          )}
        </dd>
        <dt>MCP URL</dt>
        <dd>
          <code data-field="mcp-url">{d.mcp.url}</code> <CopyButton text={d.mcp.url} label="Copy the MCP URL" />
        </dd>
        <dt>A2A card</dt>
        <dd>
          <code data-field="a2a-card">{d.a2a.cardUrl}</code> <CopyButton text={d.a2a.cardUrl} label="Copy the A2A card URL" />
        </dd>
        <dt>A2A endpoint</dt>
        <dd>
          <code data-field="a2a-endpoint">{d.a2a.endpoint}</code>{' '}
          <span className="muted small">JSON-RPC, protocol {d.a2a.protocolVersions.join(' and ')}</span>
        </dd>
      </dl>
      <p className="muted small">
        Both take a Trellis API token as <code>Authorization: Bearer …</code>; the snippets read it from{' '}
        <code>TRELLIS_TOKEN</code> or ask for it. Make one with <code>npx trellis token create --name you</code>.
      </p>
      <div role="tablist" aria-label="Snippets" className="call-tabs">
        {snippets.map((s) => (
          <button
            key={s.id}
            type="button"
            role="tab"
            aria-selected={s.id === shown?.id}
            className={s.id === shown?.id ? 'primary' : ''}
            onClick={() => setSelected(s.id)}
          >
            {s.title}
          </button>
        ))}
      </div>
      {shown && (
        <figure className="call-snippet" data-snippet={shown.id}>
          <figcaption>
            <span className="muted small">{shown.hint}</span> <CopyButton text={shown.text} label={`Copy ${shown.title}`} />
          </figcaption>
          <pre>
            <code>{shown.text}</code>
          </pre>
        </figure>
      )}
    </section>
  );
}
