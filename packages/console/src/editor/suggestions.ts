/**
 * Autocomplete for bindings: the references a node may use are `$context.<field>` (from the
 * input schema) and `$<id>` of its ancestors, with the output fields each node type is known
 * to produce. Offering only ancestors means a suggestion can never cause BINDING_NOT_UPSTREAM.
 */
import type { DraftEdge, DraftNode, EditorDoc } from './doc.ts';

/** Output fields known per node type (SPEC §1's output column). */
const OUTPUT_FIELDS: Record<string, readonly string[]> = {
  condition: ['value'],
  human_gate: ['approved', 'by', 'comment', 'data'],
  agent_call: ['text', 'artifacts'],
  tool_call: [],
  transform: [],
  parallel: [],
  join: [],
};

/** Ids of the nodes with a path to `nodeId` (not including it). */
export function ancestorsOf(nodeId: string, edges: readonly DraftEdge[]): Set<string> {
  const preds = new Map<string, string[]>();
  for (const e of edges) {
    const list = preds.get(e.to);
    if (list) list.push(e.from);
    else preds.set(e.to, [e.from]);
  }
  const seen = new Set<string>();
  const stack = [...(preds.get(nodeId) ?? [])];
  while (stack.length) {
    const id = stack.pop()!;
    if (seen.has(id) || id === nodeId) continue;
    seen.add(id);
    stack.push(...(preds.get(id) ?? []));
  }
  return seen;
}

function contextFields(doc: EditorDoc): string[] {
  const props = doc.meta.inputSchema?.properties;
  return props && typeof props === 'object' ? Object.keys(props) : [];
}

function nodeRefs(n: DraftNode): string[] {
  const fields = OUTPUT_FIELDS[n.type] ?? [];
  return [`$${n.id}`, ...fields.map((f) => `$${n.id}.${f}`), ...(n.onError === 'continue' ? [`$${n.id}.error`] : [])];
}

/** References usable in a node's bindings and expressions. */
export function bindingSuggestions(doc: EditorDoc, nodeId: string): string[] {
  const anc = ancestorsOf(nodeId, doc.edges);
  const out = ['$context', ...contextFields(doc).map((f) => `$context.${f}`)];
  for (const n of doc.nodes) if (anc.has(n.id)) out.push(...nodeRefs(n));
  return out;
}

/** References usable in an edge's condition: its source and the source's ancestors. */
export function edgeSuggestions(doc: EditorDoc, edge: DraftEdge): string[] {
  const anc = ancestorsOf(edge.from, doc.edges);
  anc.add(edge.from);
  const out = ['$context', ...contextFields(doc).map((f) => `$context.${f}`)];
  for (const n of doc.nodes) if (anc.has(n.id)) out.push(...nodeRefs(n));
  return out;
}
