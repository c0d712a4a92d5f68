/**
 * Copy, paste and duplicate of nodes. A copy holds the selected nodes and the edges between
 * them. Pasting gives every node a fresh id (`search` → `search_2`, `tool_call_1` →
 * `tool_call_2`: the first id free in the document) and rewrites, inside the pasted group, the
 * edges and the `$old` references between pasted nodes to the new ids; references to nodes
 * that were not copied are kept (they still name the same upstream node). Pure.
 */
import type { DraftEdge, DraftNode, EditorDoc, XY } from './doc.ts';

export interface Clip {
  nodes: DraftNode[];
  edges: DraftEdge[];
}

/** The selected nodes (in document order) and the edges between them. */
export function copyNodes(doc: EditorDoc, ids: ReadonlySet<string>): Clip | undefined {
  const nodes = doc.nodes.filter((n) => ids.has(n.id));
  if (nodes.length === 0) return undefined;
  const edges = doc.edges.filter((e) => ids.has(e.from) && ids.has(e.to));
  return structuredClone({ nodes, edges });
}

/** Reads a clip back from text (the system clipboard), or undefined when it is not one. */
export function clipFromText(text: string): Clip | undefined {
  try {
    const v = JSON.parse(text) as { trellisClip?: unknown };
    const c = v?.trellisClip as Clip | undefined;
    if (!c || !Array.isArray(c.nodes) || !Array.isArray(c.edges)) return undefined;
    if (!c.nodes.every((n) => n && typeof n.id === 'string' && typeof n.type === 'string')) return undefined;
    return {
      nodes: c.nodes.map((n) => ({
        ...n,
        position: n.position && typeof n.position.x === 'number' ? n.position : { x: 0, y: 0 },
      })),
      edges: c.edges.filter((e) => e && typeof e.from === 'string' && typeof e.to === 'string'),
    };
  } catch {
    return undefined;
  }
}

export function clipToText(clip: Clip): string {
  return JSON.stringify({ trellisClip: clip });
}

/** The first free id for a copy of `id`: the same stem with the next number. */
export function copyId(id: string, taken: ReadonlySet<string>): string {
  const m = /^(.*?)_(\d+)$/.exec(id);
  const stem = m ? m[1]! : id;
  for (let i = m ? Number(m[2]) + 1 : 2; ; i++) {
    const next = `${stem}_${i}`;
    if (!taken.has(next)) return next;
  }
}

function rewrite(value: unknown, re: RegExp, map: ReadonlyMap<string, string>): unknown {
  if (typeof value === 'string') return value.replace(re, (_, id: string) => `$${map.get(id) ?? id}`);
  if (Array.isArray(value)) return value.map((v) => rewrite(v, re, map));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = rewrite(v, re, map);
    return out;
  }
  return value;
}

/**
 * The nodes and edges a paste adds: fresh ids, references inside the group rewritten, each
 * node moved by `offset` (or the group placed with its top-left corner at `at`).
 */
export function pasteClip(
  doc: EditorDoc,
  clip: Clip,
  place: { offset: XY } | { at: XY },
): { nodes: DraftNode[]; edges: DraftEdge[]; ids: Map<string, string> } {
  const taken = new Set(doc.nodes.map((n) => n.id));
  const ids = new Map<string, string>();
  for (const n of clip.nodes) {
    const next = copyId(n.id, taken);
    taken.add(next);
    ids.set(n.id, next);
  }
  const minX = Math.min(...clip.nodes.map((n) => n.position.x));
  const minY = Math.min(...clip.nodes.map((n) => n.position.y));
  const shift = 'offset' in place ? place.offset : { x: place.at.x - minX, y: place.at.y - minY };
  const names = [...ids.keys()].map((k) => k.replace(/[^A-Za-z0-9_]/g, '')).filter(Boolean);
  const re = names.length ? new RegExp(`\\$(${names.join('|')})(?![A-Za-z0-9_])`, 'g') : /(?!)/g;
  const nodes = clip.nodes.map((n) => {
    const { id, type, position, ...rest } = n;
    const fields = rewrite(rest, re, ids) as Record<string, unknown>;
    return { ...fields, id: ids.get(id)!, type, position: { x: position.x + shift.x, y: position.y + shift.y } } as DraftNode;
  });
  const edges = clip.edges.map((e) => {
    const next: DraftEdge = { ...e, from: ids.get(e.from) ?? e.from, to: ids.get(e.to) ?? e.to };
    if (e.condition) next.condition = rewrite(e.condition, re, ids) as string;
    return next;
  });
  return { nodes, edges, ids };
}
