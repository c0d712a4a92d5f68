/**
 * A condition node's output ports. A condition node has a `true` port and a `false` port: an
 * edge drawn from one gets the condition `$<node>.value = true` (or `= false`), the engine's
 * own branching rule (an edge is taken when its source succeeded and its condition holds).
 * Edges with any other condition, or none, leave from the node's third port, `other`, at the
 * bottom. Which port an edge leaves from is read from its condition, so renaming the node
 * (which rewrites `$old` references) keeps every edge on its port.
 */
import type { DraftEdge, EditorDoc } from './doc.ts';

export type ConditionPort = 'true' | 'false' | 'other';
export const CONDITION_PORTS: readonly ConditionPort[] = ['true', 'false', 'other'];

/** The condition an edge from `port` of condition node `nodeId` gets. */
export function portCondition(nodeId: string, port: 'true' | 'false'): string {
  return `$${nodeId}.value = ${port}`;
}

/** The port an edge leaving condition node `nodeId` is drawn from. */
export function edgePort(edge: Pick<DraftEdge, 'from' | 'condition'>): ConditionPort {
  const c = (edge.condition ?? '').replace(/\s*=\s*/g, ' = ').trim();
  if (c === portCondition(edge.from, 'true')) return 'true';
  if (c === portCondition(edge.from, 'false')) return 'false';
  return 'other';
}

export interface NewConnection {
  source: string;
  target: string;
  sourceHandle?: string | null;
}

/**
 * The edge a connection makes, or why none: no self-loops, no second edge between the same
 * nodes (the compiler refuses both). From a condition node's `true`/`false` port the edge gets
 * that port's condition.
 */
export function edgeForConnection(doc: EditorDoc, c: NewConnection): { edge: DraftEdge } | { refused: string } {
  if (!c.source || !c.target) return { refused: 'choose two nodes' };
  if (c.source === c.target) return { refused: 'a node cannot lead to itself' };
  if (doc.edges.some((e) => e.from === c.source && e.to === c.target))
    return { refused: `${c.source} already leads to ${c.target}` };
  const src = doc.nodes.find((n) => n.id === c.source);
  const edge: DraftEdge = { from: c.source, to: c.target };
  if (src?.type === 'condition' && (c.sourceHandle === 'true' || c.sourceHandle === 'false')) {
    edge.condition = portCondition(c.source, c.sourceHandle);
  }
  return { edge };
}

/** The label an edge shows: its own label, its port name for a port condition, else its condition. */
export function edgeDisplayLabel(edge: DraftEdge, sourceType: string | undefined): string | undefined {
  if (edge.label) return edge.label;
  if (sourceType === 'condition' && edge.condition) {
    const port = edgePort(edge);
    if (port !== 'other') return port;
  }
  return edge.condition;
}
