/** The edge editor: a JSONata condition checked as you type, and a label. */
import type { ValidationError } from '@trellis/core';
import { useId } from 'react';
import type { EditorChange } from '../editor/changes.ts';
import type { DraftEdge, EditorDoc } from '../editor/doc.ts';
import { edgeSuggestions } from '../editor/suggestions.ts';
import { expressionSyntaxError } from '../editor/validate.ts';

interface Props {
  edge: DraftEdge;
  index: number;
  doc: EditorDoc;
  problems: readonly ValidationError[];
  dispatch: (change: EditorChange) => void;
}

export function EdgeInspector({ edge, index, doc, problems, dispatch }: Props) {
  const listId = useId();
  const syntax = expressionSyntaxError(edge.condition ?? '');
  const set = (patch: Partial<DraftEdge>) => dispatch({ kind: 'update_edge', index, patch });
  return (
    <form className="inspector" aria-label={`Edge ${edge.from} to ${edge.to}`} onSubmit={(e) => e.preventDefault()}>
      <h2>
        Edge <code>{edge.from}</code> → <code>{edge.to}</code>
      </h2>
      {problems.length > 0 && (
        <ul className="problems" aria-label="Problems of this edge">
          {problems.map((p) => (
            <li key={`${p.code}:${p.path}:${p.message}`}>
              <code>{p.code}</code> {p.message}
            </li>
          ))}
        </ul>
      )}
      <datalist id={listId}>
        {edgeSuggestions(doc, edge).map((s) => (
          <option key={s} value={s} />
        ))}
      </datalist>
      <label>
        Condition (JSONata; empty: always taken)
        <input
          className="code"
          list={listId}
          value={edge.condition ?? ''}
          onChange={(e) => set({ condition: e.target.value || undefined })}
          aria-invalid={syntax ? true : undefined}
          spellCheck={false}
          placeholder={`$${edge.from}.value = true`}
        />
        {syntax ? (
          <span className="field-error">Syntax: {syntax}</span>
        ) : edge.condition ? (
          <span className="muted small">Syntax OK</span>
        ) : null}
      </label>
      <label>
        Label
        <input value={edge.label ?? ''} onChange={(e) => set({ label: e.target.value || undefined })} />
      </label>
      <button type="button" className="danger" onClick={() => dispatch({ kind: 'remove', nodeIds: [], edgeIndexes: [index] })}>
        Delete edge
      </button>
    </form>
  );
}
