/** A JSON text area that keeps the user's text while it does not parse and says why. */
import { useEffect, useState } from 'react';

interface Props {
  label: string;
  value: unknown;
  onChange: (v: unknown) => void;
  rows?: number;
  placeholder?: string;
  /** Told whether the text parses (a message) or not (undefined), so the builder counts it as a problem. */
  onValidity?: (message: string | undefined) => void;
}

export function JsonField({ label, value, onChange, rows = 5, placeholder, onValidity }: Props) {
  const [text, setText] = useState(() => (value === undefined ? '' : JSON.stringify(value, null, 2)));
  const [error, setErrorState] = useState<string | undefined>(undefined);
  const setError = (m: string | undefined) => {
    setErrorState(m);
    onValidity?.(m);
  };
  // A fresh field shows the document's (valid) value.
  // biome-ignore lint/correctness/useExhaustiveDependencies: only on mount
  useEffect(() => onValidity?.(undefined), []);
  useEffect(() => {
    // Follow outside changes (undo, import) unless the user's text already means the same value.
    setText((t) => {
      try {
        if (t.trim() !== '' && JSON.stringify(JSON.parse(t)) === JSON.stringify(value)) return t;
      } catch {
        // the user is mid-edit
      }
      return value === undefined ? '' : JSON.stringify(value, null, 2);
    });
  }, [value]);
  return (
    <label>
      {label}
      <textarea
        className="code"
        rows={rows}
        value={text}
        placeholder={placeholder}
        spellCheck={false}
        aria-invalid={error ? true : undefined}
        onChange={(e) => {
          const t = e.target.value;
          setText(t);
          if (t.trim() === '') {
            setError(undefined);
            onChange(undefined);
            return;
          }
          try {
            const v = JSON.parse(t);
            setError(undefined);
            onChange(v);
          } catch (err) {
            setError(`Not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
          }
        }}
      />
      {error && <span className="field-error">{error}</span>}
    </label>
  );
}
