/**
 * Auto-layout with dagre: left-to-right ranks, which reads like the run's order of execution.
 * Pure: takes the graph, returns positions; the builder commits them as one undoable move.
 */
import * as dagreNs from '@dagrejs/dagre';
import type { DraftEdge, DraftNode, XY } from './doc.ts';

/** Size of a node on the canvas (the layout needs it; the CSS matches it). */
export const NODE_WIDTH = 180;
export const NODE_HEIGHT = 56;

// dagre is CommonJS: bundlers hand it over either as the namespace or as its default export.
const dagre: typeof dagreNs = (dagreNs as unknown as { default?: typeof dagreNs }).default ?? dagreNs;

export function layoutPositions(nodes: readonly Pick<DraftNode, 'id'>[], edges: readonly DraftEdge[]): Record<string, XY> {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 30, ranksep: 70, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  const ids = new Set<string>();
  for (const n of nodes) {
    ids.add(n.id);
    g.setNode(n.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  }
  for (const e of edges) if (ids.has(e.from) && ids.has(e.to) && e.from !== e.to) g.setEdge(e.from, e.to);
  dagre.layout(g);
  const out: Record<string, XY> = {};
  for (const id of ids) {
    const p = g.node(id);
    // dagre gives centres; the canvas positions top-left corners.
    out[id] = { x: Math.round(p.x - NODE_WIDTH / 2), y: Math.round(p.y - NODE_HEIGHT / 2) };
  }
  return out;
}
