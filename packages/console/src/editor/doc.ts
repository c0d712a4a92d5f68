/**
 * The builder's document: a workflow definition being edited. Nodes are kept loosely typed
 * (a half-filled node is normal while editing); the compiler, not the editor, says what is
 * wrong, so the user sees every problem at once. Every node has a position (the definition's
 * `position` layout hint, ignored by the engine).
 */
import type { NodeType } from '@trellis/core';

export interface XY {
  x: number;
  y: number;
}

/** A node as edited: its definition fields plus a position. */
export type DraftNode = { id: string; type: NodeType | string; position: XY } & Record<string, unknown>;

export interface DraftEdge {
  from: string;
  to: string;
  condition?: string;
  label?: string;
}

/** Workflow-level fields other than the graph. */
export interface DocMeta {
  name: string;
  description?: string;
  inputSchema?: Record<string, unknown>;
  settings?: Record<string, unknown>;
  output?: unknown;
  /** Schedules and webhooks (kept loosely typed while edited). */
  triggers?: Record<string, unknown>[];
}

export interface EditorDoc {
  meta: DocMeta;
  nodes: DraftNode[];
  edges: DraftEdge[];
}

export function emptyDoc(name = 'untitled-workflow'): EditorDoc {
  return { meta: { name }, nodes: [], edges: [] };
}

/** Ids of edges for the canvas: by index, since a definition's edges have no ids. */
export function edgeId(index: number): string {
  return `e${index}`;
}

export function edgeIndexOf(id: string): number | undefined {
  const m = /^e(\d+)$/.exec(id);
  return m ? Number(m[1]) : undefined;
}

/** A fresh node id for a type: `agent_call_1`, `agent_call_2`… (unique in the doc). */
export function freshNodeId(doc: EditorDoc, base: string): string {
  const stem = base.replace(/[^A-Za-z0-9_]/g, '_').replace(/^([^A-Za-z_])/, '_$1') || 'node';
  const taken = new Set(doc.nodes.map((n) => n.id));
  for (let i = 1; ; i++) {
    const id = `${stem}_${i}`;
    if (!taken.has(id)) return id;
  }
}
