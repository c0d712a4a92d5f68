/**
 * Graph edits as change objects (as xyflow's NodeChange): a closed union applied by one pure
 * function. The builder never mutates the document; undo/redo store documents, not diffs.
 */
import type { DocMeta, DraftEdge, DraftNode, EditorDoc, XY } from './doc.ts';

export type EditorChange =
  | { kind: 'add_node'; node: DraftNode }
  /** Adds several nodes and the edges among them at once (paste, duplicate). */
  | { kind: 'add_nodes'; nodes: readonly DraftNode[]; edges: readonly DraftEdge[] }
  | { kind: 'remove'; nodeIds: readonly string[]; edgeIndexes: readonly number[] }
  /** Sets fields; a field set to undefined is removed. `id`, `type` and `position` have their own changes. */
  | { kind: 'update_node'; id: string; patch: Record<string, unknown> }
  /** Renames a node and rewrites the edges and `$old` references that name it. */
  | { kind: 'rename_node'; from: string; to: string }
  | { kind: 'move_nodes'; positions: Readonly<Record<string, XY>> }
  | { kind: 'add_edge'; edge: DraftEdge }
  | { kind: 'update_edge'; index: number; patch: Partial<DraftEdge> }
  | { kind: 'set_meta'; patch: Partial<DocMeta> }
  | { kind: 'replace'; doc: EditorDoc };

export function applyChange(doc: EditorDoc, change: EditorChange): EditorDoc {
  switch (change.kind) {
    case 'add_node':
      return { ...doc, nodes: [...doc.nodes, change.node] };
    case 'add_nodes':
      return { ...doc, nodes: [...doc.nodes, ...change.nodes], edges: [...doc.edges, ...change.edges] };
    case 'remove': {
      const ids = new Set(change.nodeIds);
      const idx = new Set(change.edgeIndexes);
      return {
        ...doc,
        nodes: doc.nodes.filter((n) => !ids.has(n.id)),
        edges: doc.edges.filter((e, i) => !idx.has(i) && !ids.has(e.from) && !ids.has(e.to)),
      };
    }
    case 'update_node':
      return { ...doc, nodes: doc.nodes.map((n) => (n.id === change.id ? patchObject(n, change.patch) : n)) };
    case 'rename_node':
      return renameNode(doc, change.from, change.to);
    case 'move_nodes':
      return {
        ...doc,
        nodes: doc.nodes.map((n) => {
          const p = change.positions[n.id];
          return p ? { ...n, position: { x: p.x, y: p.y } } : n;
        }),
      };
    case 'add_edge':
      return { ...doc, edges: [...doc.edges, change.edge] };
    case 'update_edge':
      return { ...doc, edges: doc.edges.map((e, i) => (i === change.index ? patchObject(e, change.patch) : e)) };
    case 'set_meta':
      return { ...doc, meta: patchObject(doc.meta, change.patch) };
    case 'replace':
      return change.doc;
  }
}

function patchObject<T extends object>(obj: T, patch: object): T {
  const out = { ...obj } as Record<string, unknown>;
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out as T;
}

/** Rewrites `$from` (as a whole word) to `$to` in every string of a value. */
function rewriteRefs(value: unknown, re: RegExp, to: string): unknown {
  if (typeof value === 'string') return value.replace(re, `$$${to}`);
  if (Array.isArray(value)) return value.map((v) => rewriteRefs(v, re, to));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = rewriteRefs(v, re, to);
    return out;
  }
  return value;
}

const REF_FIELDS = ['input', 'expression', 'message', 'prompt'] as const;

function renameNode(doc: EditorDoc, from: string, to: string): EditorDoc {
  if (from === to) return doc;
  const re = new RegExp(`\\$${from.replace(/[^A-Za-z0-9_]/g, '')}(?![A-Za-z0-9_])`, 'g');
  const nodes = doc.nodes.map((n) => {
    const next: DraftNode = n.id === from ? { ...n, id: to } : { ...n };
    for (const f of REF_FIELDS) if (f in next) next[f] = rewriteRefs(next[f], re, to);
    return next;
  });
  const edges = doc.edges.map((e) => {
    const next: DraftEdge = { ...e, from: e.from === from ? to : e.from, to: e.to === from ? to : e.to };
    if (e.condition) next.condition = e.condition.replace(re, `$$${to}`);
    return next;
  });
  const meta = doc.meta.output === undefined ? doc.meta : { ...doc.meta, output: rewriteRefs(doc.meta.output, re, to) };
  return { meta, nodes, edges };
}
