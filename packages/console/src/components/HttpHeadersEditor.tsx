/**
 * The headers of an http.request node, one row per header, with the secrets this workflow may
 * use offered as `{{ $secrets.NAME }}` / `Bearer {{ $secrets.NAME }}` — the one place (with the
 * URL's query) where a definition may reference a secret.
 */
import { useId, useState } from 'react';
import type { SecretInfo } from '../api/types.ts';
import { secretRef } from '../editor/headers-text.ts';

interface Props {
  headers: unknown;
  secrets: readonly SecretInfo[];
  onChange: (next: Record<string, string> | undefined) => void;
}

export function HttpHeadersEditor({ headers, secrets, onChange }: Props) {
  const listId = useId();
  const [newName, setNewName] = useState('');
  const obj =
    headers && typeof headers === 'object' && !Array.isArray(headers) ? (headers as Record<string, unknown>) : undefined;
  const rows = Object.entries(obj ?? {}).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)] as const);

  function set(name: string, value: string | undefined) {
    const next: Record<string, string> = Object.fromEntries(rows);
    if (value === undefined) delete next[name];
    else next[name] = value;
    onChange(Object.keys(next).length ? next : undefined);
  }

  function add() {
    const n = newName.trim();
    if (!n || rows.some(([k]) => k === n)) return;
    set(n, secrets[0] ? `Bearer ${secretRef(secrets[0].name)}` : '');
    setNewName('');
  }

  return (
    <fieldset className="bindings" aria-label="Request headers">
      <legend>Headers</legend>
      <datalist id={listId}>
        {secrets.map((s) => (
          <option key={s.name} value={`Bearer ${secretRef(s.name)}`} />
        ))}
        {secrets.map((s) => (
          <option key={`raw-${s.name}`} value={secretRef(s.name)} />
        ))}
      </datalist>
      {obj === undefined && headers !== undefined ? (
        <p className="muted small">The headers are a binding ({JSON.stringify(headers)}); edit them as input above.</p>
      ) : (
        rows.map(([k, v]) => (
          <label key={k}>
            <span>{k}</span>
            <span className="row">
              <input list={listId} value={v} onChange={(e) => set(k, e.target.value)} aria-label={`Header ${k}`} />
              <button type="button" onClick={() => set(k, undefined)} aria-label={`Remove header ${k}`}>
                ×
              </button>
            </span>
          </label>
        ))
      )}
      <div className="row">
        <input
          aria-label="New header name"
          placeholder="Authorization"
          value={newName}
          onChange={(e) => setNewName(e.target.value)}
          onKeyDown={(e) => e.key === 'Enter' && add()}
        />
        <button type="button" onClick={add} disabled={!newName.trim()}>
          Add header
        </button>
      </div>
      <p className="muted small">
        {secrets.length > 0 ? (
          <>
            Secrets you may use:{' '}
            {secrets.map((s) => (
              <code key={s.name}>{secretRef(s.name)} </code>
            ))}{' '}
            — in header values, or in the URL's query (<code>?key={secretRef(secrets[0]?.name ?? 'NAME')}</code>). Runs show{' '}
            <code>[secret:NAME]</code>, never the value.
          </>
        ) : (
          <>
            No secrets yet: set one on the Secrets page, then use it here as <code>{'{{ $secrets.NAME }}'}</code>.
          </>
        )}
      </p>
    </fieldset>
  );
}
