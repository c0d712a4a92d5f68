/**
 * Undo/redo over whole documents. Documents are immutable and share structure, so a snapshot
 * per edit is cheap. A drag is many transient moves but one undo step: `checkpoint()` at the
 * start, `applyTransient()` while moving.
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

/** Records the present as an undo point without changing it (before a drag). */
export function checkpoint(h: History): History {
  return { past: [...h.past, h.present].slice(-LIMIT), present: h.present, future: [] };
}

/** Applies a change without an undo step (the moves of a drag after its checkpoint). */
export function applyTransient(h: History, change: EditorChange): History {
  return { ...h, present: applyChange(h.present, change) };
}

/** Drops the last checkpoint if nothing changed since (a click that did not drag). */
export function dropEmptyCheckpoint(h: History): History {
  const last = h.past[h.past.length - 1];
  return last === h.present ? { ...h, past: h.past.slice(0, -1) } : h;
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
