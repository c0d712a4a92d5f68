/**
 * Undo per field edit, not per keystroke. Typing in one field sends one change per keystroke;
 * consecutive changes to the same field (same node or edge, same field names) are merged into
 * one undo step. The step ends when the field loses focus (`seal`), on undo/redo, or when any
 * other change comes.
 */
import type { EditorChange } from './changes.ts';
import { commit, type History } from './history.ts';

/** What a change edits, when it is a field edit that may merge with the previous one. */
export function coalesceKey(change: EditorChange): string | undefined {
  switch (change.kind) {
    case 'update_node':
      return `node:${change.id}:${Object.keys(change.patch).sort().join(',')}`;
    case 'update_edge':
      return `edge:${change.index}:${Object.keys(change.patch).sort().join(',')}`;
    case 'set_meta':
      return `meta:${Object.keys(change.patch).sort().join(',')}`;
    case 'move_nodes':
      // Arrow-key moves of the same selection (a drag is committed once, by commitDrag).
      return `move:${Object.keys(change.positions).sort().join(',')}`;
    default:
      return undefined;
  }
}

export interface EditHistory extends History {
  /** The field the last step edits while it may still grow; undefined once sealed. */
  readonly openKey?: string | undefined;
}

/** Commits a change; a field edit continuing the open step replaces that step's result. */
export function commitEdit(h: EditHistory, change: EditorChange): EditHistory {
  const key = coalesceKey(change);
  if (key !== undefined && key === h.openKey && h.past.length > 0) {
    const merged = commit(
      { past: h.past.slice(0, -1), present: h.past[h.past.length - 1]!, future: [] },
      {
        kind: 'replace',
        doc: commit({ ...h, future: [] }, change).present,
      },
    );
    // A merged edit that returns the field to where the step started leaves no step.
    return { ...merged, openKey: merged.past.length < h.past.length ? undefined : key };
  }
  const next = commit(h, change);
  return next === h ? h : { ...next, openKey: key };
}

/** Ends the open step: the next edit, even of the same field, is a new undo step. */
export function seal(h: EditHistory): EditHistory {
  return h.openKey === undefined ? h : { past: h.past, present: h.present, future: h.future };
}

/**
 * Commits a whole drag (the canvas keeps the positions while the mouse moves and hands them over
 * at the drop): one undo step of its own, never merged with arrow-key moves before or after it.
 * A drag that ends where it started adds no step.
 */
export function commitDrag(h: EditHistory, change: EditorChange & { kind: 'move_nodes' }): EditHistory {
  const at = new Map(h.present.nodes.map((n) => [n.id, n.position]));
  const moved = Object.entries(change.positions).some(([id, p]) => {
    const q = at.get(id);
    return !q || q.x !== p.x || q.y !== p.y;
  });
  return moved ? seal(commitEdit(seal(h), change)) : h;
}
