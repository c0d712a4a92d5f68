/**
 * The builder's keyboard shortcuts: one table for the key handler and for the `?` overlay.
 * Ctrl stands for Cmd on macOS. Shortcuts marked `inFields` also work while typing in a field
 * (Ctrl+S saves from anywhere); the others leave text fields their own keys (their undo, copy).
 */
export type ShortcutAction =
  | 'undo'
  | 'redo'
  | 'copy'
  | 'paste'
  | 'duplicate'
  | 'save'
  | 'help'
  | 'close'
  | 'select_all'
  | 'layout'
  | 'delete';

export interface Shortcut {
  action: ShortcutAction;
  keys: string;
  what: string;
  inFields?: boolean;
}

export const SHORTCUTS: readonly Shortcut[] = [
  { action: 'save', keys: 'Ctrl+S', what: 'Save (a new version)', inFields: true },
  { action: 'undo', keys: 'Ctrl+Z', what: 'Undo the last edit (a whole field edit is one step)' },
  { action: 'redo', keys: 'Ctrl+Shift+Z / Ctrl+Y', what: 'Redo' },
  { action: 'copy', keys: 'Ctrl+C', what: 'Copy the selected nodes (with the edges between them)' },
  { action: 'paste', keys: 'Ctrl+V', what: 'Paste: new ids, references between pasted nodes follow' },
  { action: 'duplicate', keys: 'Ctrl+D', what: 'Duplicate the selected nodes' },
  { action: 'select_all', keys: 'Ctrl+A', what: 'Select every node' },
  { action: 'layout', keys: 'Shift+L', what: 'Auto-layout' },
  { action: 'delete', keys: 'Delete / Backspace', what: 'Delete the selection; the focus moves to the next node' },
  { action: 'help', keys: '?', what: 'Show this list' },
  { action: 'close', keys: 'Escape', what: 'Close a popover or this list', inFields: true },
];

/** Keys handled by the canvas itself (listed in the overlay, not matched here). */
export const CANVAS_KEYS: readonly { keys: string; what: string }[] = [
  { keys: 'Tab / Shift+Tab', what: 'Move between the palette, the nodes, the edges and the inspector' },
  { keys: 'Enter / Space', what: 'On a palette item: add it. On a node or edge: select it' },
  { keys: 'Arrow keys (Shift: faster)', what: 'Move the selected nodes' },
  { keys: 'Inspector "Connect to…"', what: 'Connect the selected node to another (condition nodes: true/false port)' },
];

export interface KeyLike {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
}

/** The action a key press means, if any; `inField` is true while typing in a text field. */
export function matchShortcut(e: KeyLike, inField: boolean): ShortcutAction | undefined {
  const mod = e.ctrlKey || e.metaKey;
  const k = e.key.toLowerCase();
  let action: ShortcutAction | undefined;
  if (e.key === 'Escape') action = 'close';
  else if (mod && !e.altKey) {
    if (k === 's') action = 'save';
    else if (k === 'z') action = e.shiftKey ? 'redo' : 'undo';
    else if (k === 'y') action = 'redo';
    else if (k === 'c' && !e.shiftKey) action = 'copy';
    else if (k === 'v' && !e.shiftKey) action = 'paste';
    else if (k === 'd' && !e.shiftKey) action = 'duplicate';
    else if (k === 'a' && !e.shiftKey) action = 'select_all';
  } else if (!e.altKey && e.key === '?') action = 'help';
  else if (!e.altKey && e.shiftKey && k === 'l') action = 'layout';
  else if (!e.altKey && !e.shiftKey && (e.key === 'Delete' || e.key === 'Backspace')) action = 'delete';
  if (!action) return undefined;
  if (inField && !SHORTCUTS.find((s) => s.action === action)?.inFields) return undefined;
  return action;
}

/** True for elements that take text (their own undo, copy and `?`). */
export function isTextField(el: Element | null): boolean {
  if (!el) return false;
  const t = el.tagName;
  if (t === 'TEXTAREA' || t === 'SELECT') return true;
  if (t === 'INPUT') {
    const type = (el as HTMLInputElement).type;
    return !['button', 'checkbox', 'radio', 'submit', 'reset', 'file', 'range', 'color'].includes(type);
  }
  return (el as HTMLElement).isContentEditable === true;
}
