/**
 * Undo/redo over whole documents. Documents are immutable and share structure, so a snapshot
 * per edit is cheap. A drag is one step: the canvas keeps its moves and commits the drop
 * (`commitDrag`, history-coalesce.ts).
 */
import { applyChange, type EditorChange } from './changes.ts';
import type { EditorDoc } from './doc.ts';

const LIMIT = 200;

export interface History {
  readonly past: readonly EditorDoc[];
  readonly present: EditorDoc;
  readonly future: readonly EditorDoc[];
}

export function createHistory(doc: EditorDoc): History {
  return { past: [], present: doc, future: [] };
}

/** Applies a change as one undoable step. A change that changes nothing adds no step. */
export function commit(h: History, change: EditorChange): History {
  const next = applyChange(h.present, change);
  if (next === h.present) return h;
  return { past: [...h.past, h.present].slice(-LIMIT), present: next, future: [] };
}

export function canUndo(h: History): boolean {
  return h.past.length > 0;
}

export function canRedo(h: History): boolean {
  return h.future.length > 0;
}

export function undo(h: History): History {
  const prev = h.past[h.past.length - 1];
  if (!prev) return h;
  return { past: h.past.slice(0, -1), present: prev, future: [h.present, ...h.future] };
}

export function redo(h: History): History {
  const next = h.future[0];
  if (!next) return h;
  return { past: [...h.past, h.present], present: next, future: h.future.slice(1) };
}
