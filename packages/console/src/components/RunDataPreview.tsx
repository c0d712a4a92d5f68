/**
 * Run data in the inspector: the context that carries the builder's run data (the newest run
 * or a pinned one) to every binding field, the suggestions derived from it, and the live preview
 * line under a binding or expression.
 */
import { createContext, useContext, useEffect, useMemo, useState } from 'react';
import type { EditorDoc } from '../editor/doc.ts';
import {
  dataSuggestions,
  type Preview,
  previewBinding,
  previewExpression,
  previewText,
  type RunData,
  scopeFor,
} from '../editor/run-data.ts';

export interface RunDataScope {
  data: RunData | undefined;
  doc: EditorDoc;
  /** The node being edited; `includeSelf` for an edge condition (its source's output is in scope). */
  nodeId: string;
  includeSelf?: boolean;
}

export const RunDataContext = createContext<RunDataScope | undefined>(undefined);

/** `base` (the type-derived references) followed by the paths found in the run data. */
export function useDataSuggestions(base: readonly string[]): string[] {
  const ctx = useContext(RunDataContext);
  return useMemo(() => {
    if (!ctx?.data) return [...base];
    const fromData = dataSuggestions(ctx.doc, ctx.nodeId, ctx.data, ctx.includeSelf);
    return [...new Set([...fromData, ...base])];
  }, [ctx, base]);
}

/** The preview line of a binding (`kind: 'binding'`) or a JSONata expression. */
export function ValuePreview({ value, kind = 'binding' }: { value: unknown; kind?: 'binding' | 'expression' }) {
  const ctx = useContext(RunDataContext);
  const [preview, setPreview] = useState<Preview | undefined>(undefined);
  const key = value === undefined || value === '' ? undefined : JSON.stringify(value);
  useEffect(() => {
    const v: unknown = key === undefined ? undefined : JSON.parse(key);
    if (!ctx?.data || v === undefined) {
      setPreview(undefined);
      return;
    }
    let live = true;
    const scope = scopeFor(ctx.doc, ctx.nodeId, ctx.data, ctx.includeSelf);
    const t = setTimeout(() => {
      const p = kind === 'expression' && typeof v === 'string' ? previewExpression(v, scope) : previewBinding(v, scope);
      void p.then((r) => live && setPreview(r));
    }, 120);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [ctx, key, kind]);
  if (!ctx?.data || preview === undefined) return null;
  return (
    <output
      className={preview.ok ? 'preview' : 'preview preview-error'}
      title={`Evaluated against run ${ctx.data.runId}`}
      aria-label="Preview"
    >
      {preview.ok ? `→ ${previewText(preview.value)}` : `✗ ${preview.message}`}
    </output>
  );
}
