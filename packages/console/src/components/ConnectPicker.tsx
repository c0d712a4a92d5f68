/**
 * "Connect to…" in the node inspector: the keyboard way to draw an edge. Pick a node (and, from
 * a condition node, the true or false port); the edge gets the port's condition as if drawn
 * from that handle. Lists the node's outgoing edges so each can be opened (selected) or removed.
 */
import { useId, useState } from 'react';
import type { EditorChange } from '../editor/changes.ts';
import { type ConditionPort, edgeForConnection, edgePort } from '../editor/condition-ports.ts';
import type { DraftNode, EditorDoc } from '../editor/doc.ts';

interface Props {
  node: DraftNode;
  doc: EditorDoc;
  dispatch: (change: EditorChange) => void;
  onSelectEdge: (index: number) => void;
}

export function ConnectPicker({ node, doc, dispatch, onSelectEdge }: Props) {
  const isCondition = node.type === 'condition';
  const taken = new Set(doc.edges.filter((e) => e.from === node.id).map((e) => e.to));
  const targets = doc.nodes.filter((n) => n.id !== node.id && !taken.has(n.id));
  const [target, setTarget] = useState('');
  const [port, setPort] = useState<ConditionPort>('true');
  const [note, setNote] = useState<string | undefined>(undefined);
  const targetId = useId();
  const chosen = targets.some((n) => n.id === target) ? target : (targets[0]?.id ?? '');
  const outgoing = doc.edges.map((e, i) => ({ e, i })).filter(({ e }) => e.from === node.id);

  function connect() {
    const r = edgeForConnection(doc, { source: node.id, target: chosen, sourceHandle: isCondition ? port : null });
    if ('refused' in r) {
      setNote(r.refused);
      return;
    }
    dispatch({ kind: 'add_edge', edge: r.edge });
    setNote(`Connected to ${chosen}${r.edge.condition ? ` when ${r.edge.condition}` : ''}.`);
  }

  return (
    <fieldset className="connect" aria-label="Connections">
      <legend>Connections</legend>
      {outgoing.length > 0 && (
        <ul className="problems" aria-label="Outgoing edges">
          {outgoing.map(({ e, i }) => (
            <li key={i} className="row">
              <button
                type="button"
                className="ghost"
                onClick={() => onSelectEdge(i)}
                aria-label={`Open edge ${e.from} to ${e.to}`}
              >
                → <code>{e.to}</code>
                {isCondition && edgePort(e) !== 'other' ? ` (${edgePort(e)})` : e.condition ? ` when ${e.condition}` : ''}
              </button>
              <button
                type="button"
                className="ghost danger"
                aria-label={`Remove edge ${e.from} to ${e.to}`}
                onClick={() => dispatch({ kind: 'remove', nodeIds: [], edgeIndexes: [i] })}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      {targets.length === 0 ? (
        <p className="muted small">
          {doc.nodes.length < 2 ? 'Add another node to connect to.' : 'Connected to every other node.'}
        </p>
      ) : (
        <div className="row connect-row">
          <label htmlFor={targetId} className="sr-only">
            Connect to
          </label>
          <select id={targetId} value={chosen} onChange={(e) => setTarget(e.target.value)} aria-label="Connect to">
            {targets.map((n) => (
              <option key={n.id} value={n.id}>
                {n.id}
              </option>
            ))}
          </select>
          {isCondition && (
            <select value={port} onChange={(e) => setPort(e.target.value as ConditionPort)} aria-label="From port">
              <option value="true">when true</option>
              <option value="false">when false</option>
              <option value="other">always</option>
            </select>
          )}
          <button type="button" onClick={connect}>
            Connect
          </button>
        </div>
      )}
      {note && (
        <p className="muted small" role="status">
          {note}
        </p>
      )}
    </fieldset>
  );
}
