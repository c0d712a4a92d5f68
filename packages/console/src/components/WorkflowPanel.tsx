/** With nothing selected: the workflow's own fields and the list of every problem. */
import type { ValidationError } from '@trellis/core';
import type { EditorChange } from '../editor/changes.ts';
import type { EditorDoc } from '../editor/doc.ts';
import type { PinnedProblems } from '../editor/validate.ts';
import { JsonField } from './JsonField.tsx';

interface Props {
  doc: EditorDoc;
  problems: PinnedProblems;
  dispatch: (change: EditorChange) => void;
  onSelectProblem: (p: ValidationError) => void;
  /** A JSON field's text does not parse (message) or parses again (undefined). */
  onFieldError?: (field: string, message: string | undefined) => void;
}

export function WorkflowPanel({ doc, problems, dispatch, onSelectProblem, onFieldError }: Props) {
  const settings = (doc.meta.settings ?? {}) as Record<string, unknown>;
  const setSetting = (k: string, text: string) => {
    const n = text.trim() === '' ? undefined : Number(text);
    const next: Record<string, unknown> = { ...settings, [k]: Number.isFinite(n) ? n : undefined };
    for (const key of Object.keys(next)) if (next[key] === undefined) delete next[key];
    dispatch({ kind: 'set_meta', patch: { settings: Object.keys(next).length ? next : undefined } });
  };
  return (
    <div>
      <h2>
        Problems <span className="badge">{problems.errors.length}</span>
      </h2>
      {problems.errors.length === 0 ? (
        <p className="muted" role="status">
          No problems: the workflow is valid.
        </p>
      ) : (
        <ul className="problems" aria-label="Problems">
          {problems.errors.map((p, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: problems have no identity of their own
            <li key={i}>
              <button type="button" className="ghost" onClick={() => onSelectProblem(p)}>
                <code>{p.code}</code> {p.message}
              </button>
            </li>
          ))}
        </ul>
      )}
      {problems.warnings.length > 0 && (
        <ul className="problems warnings" aria-label="Warnings">
          {problems.warnings.map((p, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: warnings have no identity of their own
            <li key={i}>
              <code className="muted">{p.code}</code> {p.message}
            </li>
          ))}
        </ul>
      )}
      <h2>Workflow</h2>
      <label>
        Description
        <textarea
          rows={2}
          value={doc.meta.description ?? ''}
          onChange={(e) => dispatch({ kind: 'set_meta', patch: { description: e.target.value || undefined } })}
        />
      </label>
      <JsonField
        label="Input schema (JSON Schema)"
        value={doc.meta.inputSchema}
        placeholder='{ "type": "object", "properties": { "query": { "type": "string" } } }'
        onValidity={(m) => onFieldError?.('Input schema', m)}
        onChange={(v) => dispatch({ kind: 'set_meta', patch: { inputSchema: v as Record<string, unknown> | undefined } })}
      />
      <JsonField
        label="Output bindings"
        value={doc.meta.output}
        rows={3}
        onValidity={(m) => onFieldError?.('Output bindings', m)}
        onChange={(v) => dispatch({ kind: 'set_meta', patch: { output: v } })}
      />
      <label>
        Max concurrency
        <input
          inputMode="numeric"
          value={settings.maxConcurrency === undefined ? '' : String(settings.maxConcurrency)}
          onChange={(e) => setSetting('maxConcurrency', e.target.value)}
        />
      </label>
      <label>
        Run timeout (ms)
        <input
          inputMode="numeric"
          value={settings.timeoutMs === undefined ? '' : String(settings.timeoutMs)}
          onChange={(e) => setSetting('timeoutMs', e.target.value)}
        />
      </label>
      <label>
        Budget (USD)
        <input
          inputMode="decimal"
          value={settings.maxCostUsd === undefined ? '' : String(settings.maxCostUsd)}
          onChange={(e) => setSetting('maxCostUsd', e.target.value)}
        />
      </label>
    </div>
  );
}
