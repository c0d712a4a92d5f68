/**
 * The editor document as xyflow nodes and edges. Node objects are cached and reused while
 * their inputs are unchanged: xyflow then skips them (it compares by identity), which keeps a
 * 500-node graph cheap to drag and pan.
 */
import type { Edge } from '@xyflow/react';
import { type FlowNodeType, NODE_HANDLES, nodeDetail } from '../components/FlowNode.tsx';
import { type DraftEdge, type DraftNode, edgeId } from './doc.ts';
import { NODE_HEIGHT, NODE_WIDTH } from './layout.ts';

interface CacheEntry {
  src: DraftNode;
  selected: boolean;
  problemsKey: string;
  extraKey: string;
  node: FlowNodeType;
}

export type NodeExtras = { status?: string; attempts?: number; reusedFrom?: string };

export class FlowNodeCache {
  private cache = new Map<string, CacheEntry>();

  map(
    nodes: readonly DraftNode[],
    selected: ReadonlySet<string>,
    problems: ReadonlyMap<string, readonly { message: string; code: string }[]>,
    extras?: ReadonlyMap<string, NodeExtras>,
  ): FlowNodeType[] {
    const next = new Map<string, CacheEntry>();
    const out = nodes.map((n) => {
      const sel = selected.has(n.id);
      const probs = problems.get(n.id) ?? [];
      const problemsKey = probs.map((p) => `${p.code}:${p.message}`).join('|');
      const extra = extras?.get(n.id);
      const extraKey = extra ? `${extra.status}:${extra.attempts}:${extra.reusedFrom ?? ''}` : '';
      const hit = this.cache.get(n.id);
      if (hit && hit.src === n && hit.selected === sel && hit.problemsKey === problemsKey && hit.extraKey === extraKey) {
        next.set(n.id, hit);
        return hit.node;
      }
      const node: FlowNodeType = {
        id: n.id,
        type: 'trellis',
        position: n.position,
        selected: sel,
        width: NODE_WIDTH,
        height: NODE_HEIGHT,
        measured: { width: NODE_WIDTH, height: NODE_HEIGHT },
        handles: NODE_HANDLES,
        ariaLabel: extra?.status
          ? `Node ${n.id}: ${extra.reusedFrom ? `reused from run ${extra.reusedFrom}` : extra.status}`
          : `Node ${n.id} (${String(n.type)})`,
        data: {
          nodeId: n.id,
          nodeType: String(n.type),
          detail: nodeDetail(n),
          problems: probs.map((p) => `${p.code}: ${p.message}`),
          ...(extra?.status ? { status: extra.status } : {}),
          ...(extra?.attempts ? { attempts: extra.attempts } : {}),
          ...(extra?.reusedFrom ? { reusedFrom: extra.reusedFrom } : {}),
        },
      };
      next.set(n.id, { src: n, selected: sel, problemsKey, extraKey, node });
      return node;
    });
    this.cache = next;
    return out;
  }
}

export function mapEdges(
  edges: readonly DraftEdge[],
  selected: ReadonlySet<number>,
  problems: ReadonlyMap<number, readonly unknown[]>,
  taken?: ReadonlyMap<number, boolean>,
): Edge[] {
  return edges.map((e, i) => {
    const bad = (problems.get(i)?.length ?? 0) > 0;
    const t = taken?.get(i);
    const label = e.label ?? e.condition;
    const edge: Edge = {
      id: edgeId(i),
      source: e.from,
      target: e.to,
      selected: selected.has(i),
      className: [bad ? 'edge-error' : '', t === true ? 'edge-taken' : t === false ? 'edge-not-taken' : ''].join(' ').trim(),
      ariaLabel: `Edge ${e.from} to ${e.to}${e.condition ? ` when ${e.condition}` : ''}`,
    };
    if (label) edge.label = label.length > 40 ? `${label.slice(0, 39)}…` : label;
    if (bad) edge.style = { stroke: '#b42318', strokeWidth: 2 };
    return edge;
  });
}
