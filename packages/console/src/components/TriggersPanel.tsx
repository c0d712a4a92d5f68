/**
 * The builder's Triggers panel: edit the definition's schedules and webhooks; for a saved workflow,
 * see each trigger's last run and webhook URL, and create (or rotate) a webhook's secret, which is
 * shown once together with a ready `curl` command that signs a body.
 */
import { checkCron, nextFireTimes } from '@trellis/core';
import { useMemo, useState } from 'react';
import { useApi } from '../app/context.ts';
import { formatTime } from '../app/format.ts';
import { useAsync } from '../app/use-async.ts';
import type { EditorChange } from '../editor/changes.ts';
import type { EditorDoc } from '../editor/doc.ts';
import { ErrorBanner } from './Feedback.tsx';
import { JsonField } from './JsonField.tsx';
import { Link } from './Layout.tsx';

/** A trigger as edited (loosely typed: half-filled while typing; the compiler says what is wrong). */
type DraftTrigger = { id: string; type: 'schedule' | 'webhook' | string } & Record<string, unknown>;

interface SavedTrigger {
  id: string;
  type: 'schedule' | 'webhook';
  nextFireAt: string | null;
  lastFiredAt: string | null;
  lastRun: { id: string; status: string; createdAt: string } | null;
  webhook?: { url: string; hasSecret: boolean; secretCreatedAt: string | null };
}

interface Props {
  workflowId: string | undefined;
  doc: EditorDoc;
  /** Unsaved edits: the saved triggers (last run, URL, secret) may differ from the ones shown. */
  dirty: boolean;
  dispatch: (change: EditorChange) => void;
  onClose: () => void;
}

const userZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
const zones: string[] = (() => {
  try {
    return (Intl as unknown as { supportedValuesOf(k: string): string[] }).supportedValuesOf('timeZone');
  } catch {
    return ['UTC'];
  }
})();

function freshId(existing: readonly DraftTrigger[], base: string): string {
  let i = 1;
  while (existing.some((t) => t.id === `${base}_${i}`)) i++;
  return `${base}_${i}`;
}

/** The next five fire times of a cron expression, shown in the viewer's own time zone. */
function Upcoming({ cron, timezone }: { cron: string; timezone: string | undefined }) {
  const check = checkCron(cron, timezone);
  if (!check.ok)
    return (
      <p className="field-error" role="alert">
        {check.message}
      </p>
    );
  const times = nextFireTimes(cron, timezone, Date.now(), 5);
  return (
    <div>
      <p className="muted small">Next five, in your time zone ({userZone}):</p>
      <ol className="small" aria-label="Next fire times">
        {times.map((t) => (
          <li key={t}>{new Date(t).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })}</li>
        ))}
      </ol>
    </div>
  );
}

export function TriggersPanel({ workflowId, doc, dirty, dispatch, onClose }: Props) {
  const api = useApi();
  const triggers = (doc.meta.triggers ?? []) as DraftTrigger[];
  const saved = useAsync(
    async (): Promise<SavedTrigger[]> => (workflowId ? await api.listTriggers(workflowId) : []),
    [api, workflowId],
  );
  const savedById = useMemo(() => new Map((saved.data ?? []).map((t) => [t.id, t])), [saved.data]);
  const [secret, setSecret] = useState<{ triggerId: string; secret: string } | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);

  const write = (next: DraftTrigger[]) => dispatch({ kind: 'set_meta', patch: { triggers: next.length > 0 ? next : undefined } });
  const update = (i: number, patch: Record<string, unknown>) => {
    const next = triggers.map((t, j) => {
      if (j !== i) return t;
      const merged: Record<string, unknown> = { ...t, ...patch };
      for (const k of Object.keys(merged)) if (merged[k] === undefined) delete merged[k];
      return merged as DraftTrigger;
    });
    write(next);
  };

  async function createSecret(triggerId: string) {
    if (!workflowId) return;
    setError(undefined);
    try {
      const r = await api.createTriggerSecret(workflowId, triggerId);
      setSecret({ triggerId, secret: r.secret });
      saved.reload();
    } catch (err) {
      setError(err);
    }
  }

  return (
    <div className="triggers-panel">
      <h2>
        Triggers
        <button type="button" className="ghost" onClick={onClose} aria-label="Close triggers">
          ×
        </button>
      </h2>
      <p className="muted small">
        Schedules start one run per tick; webhooks start a run per signed delivery. Triggers take effect when you save.
      </p>
      <ErrorBanner error={saved.error} onRetry={saved.reload} />
      <ErrorBanner error={error} />
      {triggers.length === 0 && <p className="muted">No triggers: runs start only through the API, the CLI or chat.</p>}
      {triggers.map((t, i) => {
        const s = savedById.get(t.id);
        const url = s?.webhook
          ? s.webhook.url.startsWith('http')
            ? s.webhook.url
            : `${window.location.origin}${s.webhook.url}`
          : undefined;
        return (
          // biome-ignore lint/suspicious/noArrayIndexKey: a trigger's id is edited here, so it cannot be the key
          <fieldset key={i} className="trigger" aria-label={`Trigger ${t.id}`}>
            <legend>
              {t.type === 'schedule' ? 'Schedule' : 'Webhook'} <code>{t.id}</code>
            </legend>
            <label>
              Id
              <input value={t.id} onChange={(e) => update(i, { id: e.target.value })} />
            </label>
            <label className="row">
              <input
                type="checkbox"
                checked={t.enabled !== false}
                onChange={(e) => update(i, { enabled: e.target.checked ? undefined : false })}
              />
              Enabled
            </label>
            {t.type === 'schedule' ? (
              <>
                <label>
                  Cron (minute hour day month weekday, or @hourly, @daily…)
                  <input
                    value={typeof t.cron === 'string' ? t.cron : ''}
                    placeholder="0 9 * * 1-5"
                    onChange={(e) => update(i, { cron: e.target.value })}
                  />
                </label>
                <label>
                  Time zone
                  <input
                    list="trellis-time-zones"
                    value={typeof t.timezone === 'string' ? t.timezone : ''}
                    placeholder="UTC"
                    onChange={(e) => update(i, { timezone: e.target.value || undefined })}
                  />
                </label>
                {typeof t.cron === 'string' && t.cron.trim() !== '' && (
                  <Upcoming cron={t.cron} timezone={typeof t.timezone === 'string' && t.timezone ? t.timezone : undefined} />
                )}
                <JsonField label="Run input" value={t.input} rows={2} onChange={(v) => update(i, { input: v })} />
              </>
            ) : (
              <>
                <label>
                  Input mapping (JSONata over $body, $headers, $query; empty: the body)
                  <textarea
                    rows={2}
                    value={typeof t.input === 'string' ? t.input : ''}
                    placeholder="{ 'repo': $body.repository.full_name }"
                    onChange={(e) => update(i, { input: e.target.value || undefined })}
                  />
                </label>
                {url ? (
                  <div>
                    <p className="small">
                      URL: <code>{url}</code>
                    </p>
                    <button type="button" onClick={() => createSecret(t.id)}>
                      {s?.webhook?.hasSecret ? 'Rotate secret' : 'Create secret'}
                    </button>
                    {s?.webhook?.hasSecret && secret?.triggerId !== t.id && (
                      <span className="muted small"> secret created {formatTime(s.webhook.secretCreatedAt ?? '')}</span>
                    )}
                    {secret?.triggerId === t.id && (
                      <div className="banner" role="status">
                        <p>
                          The secret, shown this once — store it in the sender:{' '}
                          <code data-testid="webhook-secret">{secret.secret}</code>
                        </p>
                        <p className="small">A signed delivery with curl:</p>
                        <pre className="small">{`BODY='{"hello":"world"}'
SIG="sha256=$(printf '%s' "$BODY" | openssl dgst -sha256 -hmac '${secret.secret}' | sed 's/^.* //')"
curl -X POST '${url}?wait=10' \\
  -H 'content-type: application/json' -H "X-Trellis-Signature: $SIG" \\
  -H "X-Trellis-Delivery: $(date +%s%N)" --data "$BODY"`}</pre>
                      </div>
                    )}
                  </div>
                ) : (
                  <p className="muted small">
                    {workflowId ? 'Save to get this webhook’s URL and secret.' : 'Save the workflow to get its URL and secret.'}
                  </p>
                )}
              </>
            )}
            {s && (
              <p className="muted small">
                {s.lastRun ? (
                  <>
                    Last run: <Link to={`/runs/${encodeURIComponent(s.lastRun.id)}`}>{s.lastRun.status}</Link> ·{' '}
                    {formatTime(s.lastRun.createdAt)}
                  </>
                ) : (
                  'Not fired yet.'
                )}
                {dirty ? ' (unsaved changes)' : ''}
              </p>
            )}
            <button type="button" className="ghost" onClick={() => write(triggers.filter((_, j) => j !== i))}>
              Remove trigger
            </button>
          </fieldset>
        );
      })}
      <div className="row">
        <button
          type="button"
          onClick={() => write([...triggers, { id: freshId(triggers, 'schedule'), type: 'schedule', cron: '0 * * * *' }])}
        >
          Add schedule
        </button>
        <button type="button" onClick={() => write([...triggers, { id: freshId(triggers, 'webhook'), type: 'webhook' }])}>
          Add webhook
        </button>
      </div>
      <datalist id="trellis-time-zones">
        {zones.map((z) => (
          <option key={z} value={z} />
        ))}
      </datalist>
    </div>
  );
}
