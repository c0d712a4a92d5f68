/**
 * Unsaved changes. Node positions are layout hints (the engine ignores them): a document that
 * differs from the saved one only in positions may still be run (the run uses the saved
 * version, which behaves the same) — auto-layout never blocks Run. Saving keeps the new
 * positions as a new version; leaving the page still asks, since the layout would be lost.
 */
import type { DraftNode, EditorDoc } from './doc.ts';

function sameExceptPosition(a: DraftNode, b: DraftNode): boolean {
  if (a === b) return true;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (k !== 'position' && a[k] !== b[k]) return false;
  return true;
}

/** True when the two documents differ in anything but node positions. */
export function contentChanged(saved: EditorDoc, doc: EditorDoc): boolean {
  if (saved === doc) return false;
  if (saved.meta !== doc.meta || saved.edges !== doc.edges || saved.nodes.length !== doc.nodes.length) return true;
  return doc.nodes.some((n, i) => !sameExceptPosition(saved.nodes[i]!, n));
}
