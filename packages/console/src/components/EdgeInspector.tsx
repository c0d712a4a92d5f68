/** The edge editor: a JSONata condition checked as you type, and a label. */
import type { ValidationError } from '@trellis/core';
import { useId } from 'react';
import type { EditorChange } from '../editor/changes.ts';
import { edgePort, portCondition } from '../editor/condition-ports.ts';
import type { DraftEdge, EditorDoc } from '../editor/doc.ts';
import { edgeSuggestions } from '../editor/suggestions.ts';
import { expressionSyntaxProblem } from '../editor/validate.ts';
import { ExpressionCheck } from './ExpressionCheck.tsx';
import { ValuePreview } from './RunDataPreview.tsx';

interface Props {
  edge: DraftEdge;
  index: number;
  doc: EditorDoc;
  problems: readonly ValidationError[];
  /** Warnings pinned to this edge (e.g. no condition on an edge leaving a condition node). */
  warnings?: readonly ValidationError[];
  dispatch: (change: EditorChange) => void;
}

export function EdgeInspector({ edge, index, doc, problems, warnings = [], dispatch }: Props) {
  const listId = useId();
  const fromCondition = doc.nodes.find((n) => n.id === edge.from)?.type === 'condition';
  const port = fromCondition ? edgePort(edge) : undefined;
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
      {warnings.length > 0 && (
        <ul className="problems warnings" aria-label="Warnings of this edge">
          {warnings.map((p) => (
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
      {port && (
        <label>
          Branch of {edge.from}
          <select
            value={port}
            onChange={(e) => {
              const v = e.target.value;
              if (v === 'true' || v === 'false') set({ condition: portCondition(edge.from, v) });
              else if (port !== 'other') set({ condition: undefined });
            }}
          >
            <option value="true">true: taken when ${edge.from}.value = true</option>
            <option value="false">false: taken when ${edge.from}.value = false</option>
            <option value="other">other: the condition below (empty: always taken)</option>
          </select>
        </label>
      )}
      <label>
        Condition (JSONata; empty: always taken)
        <input
          className="code"
          list={listId}
          value={edge.condition ?? ''}
          onChange={(e) => set({ condition: e.target.value || undefined })}
          aria-invalid={expressionSyntaxProblem(edge.condition ?? '') ? true : undefined}
          spellCheck={false}
          placeholder={`$${edge.from}.value = true`}
        />
        <ExpressionCheck source={edge.condition ?? ''} doc={doc} />
        {edge.condition && !expressionSyntaxProblem(edge.condition) && <ValuePreview value={edge.condition} kind="expression" />}
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
