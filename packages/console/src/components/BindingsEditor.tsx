/**
 * Edits a node's `input` bindings: one field per property of the tool's or skill's input
 * schema when there is one, plus free key/value rows. Every field offers the upstream
 * references (`$context.x`, `$node.field`) as autocomplete.
 */
import { useId, useState } from 'react';
import { bindingToText, schemaProperties, textToBinding } from '../editor/binding-values.ts';
import { useDataSuggestions, ValuePreview } from './RunDataPreview.tsx';

interface Props {
  value: unknown;
  schema?: Record<string, unknown> | undefined;
  suggestions: readonly string[];
  onChange: (next: Record<string, unknown> | undefined) => void;
}

export function BindingsEditor({ value, schema, suggestions, onChange }: Props) {
  const listId = useId();
  const [newKey, setNewKey] = useState('');
  const offered = useDataSuggestions(suggestions);
  const obj = value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  const props = schemaProperties(schema);
  const known = new Set(props.map((p) => p.name));
  const extra = Object.keys(obj).filter((k) => !known.has(k));

  function set(key: string, text: string) {
    const next = { ...obj };
    const v = textToBinding(text);
    if (v === undefined) delete next[key];
    else next[key] = v;
    onChange(Object.keys(next).length ? next : undefined);
  }

  function addKey() {
    const k = newKey.trim();
    if (!k || k in obj) return;
    onChange({ ...obj, [k]: '' });
    setNewKey('');
  }

  return (
    <fieldset className="bindings">
      <legend>Input</legend>
      <datalist id={listId}>
        {offered.map((s) => (
          <option key={s} value={s} />
        ))}
      </datalist>
      {props.map((p) => (
        <div key={p.name} className="binding-field">
          <label>
            <span>
              {p.name}
              {p.required ? <abbr title="required"> *</abbr> : ''} {p.type && <span className="muted">({p.type})</span>}
            </span>
            <input
              list={p.enum ? `${listId}-${p.name}` : listId}
              value={bindingToText(obj[p.name])}
              onChange={(e) => set(p.name, e.target.value)}
              placeholder={
                p.default !== undefined ? `default: ${JSON.stringify(p.default)}` : '$node.field, {{ expr }} or a value'
              }
              aria-required={p.required || undefined}
            />
          </label>
          {p.enum && (
            <datalist id={`${listId}-${p.name}`}>
              {p.enum.map((v) => (
                <option key={JSON.stringify(v)} value={bindingToText(v)} />
              ))}
              {offered.map((s) => (
                <option key={s} value={s} />
              ))}
            </datalist>
          )}
          {p.description && <span className="muted small field-help">{p.description}</span>}
          <ValuePreview value={obj[p.name]} />
        </div>
      ))}
      {extra.map((k) => (
        <div key={k} className="binding-field">
          <label>
            <span>{k}</span>
            <input list={listId} value={bindingToText(obj[k])} onChange={(e) => set(k, e.target.value)} />
          </label>
          <ValuePreview value={obj[k]} />
        </div>
      ))}
      <div className="row">
        <input
          aria-label="New input field name"
          placeholder="field name"
          value={newKey}
          onChange={(e) => setNewKey(e.target.value)}
          onKeyDown={(e) => e.key === 'Enter' && addKey()}
        />
        <button type="button" onClick={addKey} disabled={!newKey.trim()}>
          Add field
        </button>
      </div>
    </fieldset>
  );
}
