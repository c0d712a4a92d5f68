/** Starts a run with a form generated from the workflow's inputSchema (or raw JSON). */
import { type FormEvent, useMemo, useState } from 'react';
import { type InputField, inputFields, readInput, textsFromInput } from '../run/input-form.ts';

interface Props {
  schema: unknown;
  onStart: (input: unknown) => Promise<void>;
  onCancel?: () => void;
  /** Prefill with an earlier run's input ("re-run with this input"). */
  initialInput?: unknown;
}

function initialTexts(fields: readonly InputField[]): Record<string, string> {
  return Object.fromEntries(
    fields.map((f) => [f.name, f.kind === 'boolean' ? (f.defaultText === 'true' ? 'true' : 'false') : f.defaultText]),
  );
}

export function StartRunForm({ schema, onStart, onCancel, initialInput }: Props) {
  const fields = useMemo(() => inputFields(schema), [schema]);
  const [prefill] = useState(() => (initialInput === undefined ? undefined : textsFromInput(fields, initialInput)));
  const [texts, setTexts] = useState(() => prefill?.texts ?? initialTexts(fields));
  const [raw, setRaw] = useState(fields.length === 0 || prefill?.raw === true);
  const [rawText, setRawText] = useState(() => (initialInput === undefined ? '{}' : JSON.stringify(initialInput, null, 2)));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    let input: unknown;
    if (raw) {
      try {
        input = JSON.parse(rawText || '{}');
      } catch (err) {
        setErrors({ $raw: `Not valid JSON: ${err instanceof Error ? err.message : String(err)}` });
        return;
      }
    } else {
      const r = readInput(fields, texts);
      if (Object.keys(r.errors).length) {
        setErrors(r.errors);
        return;
      }
      input = r.input;
    }
    setErrors({});
    setBusy(true);
    try {
      await onStart(input);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="start-run" onSubmit={submit} aria-label="Start a run">
      <h2>Start a run</h2>
      {fields.length > 0 && (
        <label className="check">
          <input type="checkbox" checked={raw} onChange={(e) => setRaw(e.target.checked)} /> Edit input as JSON
        </label>
      )}
      {raw ? (
        <label>
          Input (JSON)
          <textarea className="code" rows={6} value={rawText} onChange={(e) => setRawText(e.target.value)} spellCheck={false} />
          {errors.$raw && <span className="field-error">{errors.$raw}</span>}
        </label>
      ) : (
        fields.map((f) => (
          <Field
            key={f.name}
            field={f}
            text={texts[f.name] ?? ''}
            error={errors[f.name]}
            onText={(t) => setTexts({ ...texts, [f.name]: t })}
          />
        ))
      )}
      <div className="row">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Starting…' : 'Start run'}
        </button>
        {onCancel && (
          <button type="button" onClick={onCancel}>
            Close
          </button>
        )}
      </div>
    </form>
  );
}

function Field({
  field: f,
  text,
  error,
  onText,
}: {
  field: InputField;
  text: string;
  error: string | undefined;
  onText: (t: string) => void;
}) {
  const hint = (
    <>
      {f.description && <span className="muted small">{f.description}</span>}
      {error && <span className="field-error">{error}</span>}
    </>
  );
  const title = `${f.name}${f.required ? ' *' : ''}`;
  if (f.kind === 'boolean') {
    return (
      <label className="check">
        <input type="checkbox" checked={text === 'true'} onChange={(e) => onText(String(e.target.checked))} /> {f.name}
        {hint}
      </label>
    );
  }
  if (f.kind === 'enum') {
    return (
      <label>
        {title}
        <select value={text} onChange={(e) => onText(e.target.value)}>
          <option value="">—</option>
          {f.options?.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
        {hint}
      </label>
    );
  }
  if (f.kind === 'json') {
    return (
      <label>
        {title}
        <textarea
          className="code"
          rows={3}
          value={text}
          onChange={(e) => onText(e.target.value)}
          aria-invalid={error ? true : undefined}
        />
        {hint}
      </label>
    );
  }
  return (
    <label>
      {title}
      <input
        inputMode={f.kind === 'string' ? undefined : 'decimal'}
        value={text}
        onChange={(e) => onText(e.target.value)}
        aria-invalid={error ? true : undefined}
      />
      {hint}
    </label>
  );
}
