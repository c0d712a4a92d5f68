/**
 * The editor document as xyflow nodes and edges. Node objects are cached and reused while
 * their inputs are unchanged: xyflow then skips them (it compares by identity), which keeps a
 * 500-node graph cheap to drag and pan.
 */
import { type Edge, MarkerType } from '@xyflow/react';
import { CONDITION_HANDLES, type FlowNodeType, NODE_HANDLES, nodeDetail } from '../components/FlowNode.tsx';
import { edgeDisplayLabel, edgePort } from './condition-ports.ts';
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
    warnings?: ReadonlyMap<string, readonly { message: string; code: string }[]>,
  ): FlowNodeType[] {
    const next = new Map<string, CacheEntry>();
    const out = nodes.map((n) => {
      const sel = selected.has(n.id);
      const probs = problems.get(n.id) ?? [];
      const warns = warnings?.get(n.id) ?? [];
      const problemsKey =
        probs.length + warns.length === 0
          ? ''
          : [...probs, ...warns.map((w) => ({ ...w, code: `w:${w.code}` }))].map((p) => `${p.code}:${p.message}`).join('|');
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
        handles: n.type === 'condition' ? CONDITION_HANDLES : NODE_HANDLES,
        ariaLabel: extra?.status
          ? `Node ${n.id}: ${extra.reusedFrom ? `reused from run ${extra.reusedFrom}` : extra.status}`
          : `Node ${n.id} (${String(n.type)})`,
        data: {
          nodeId: n.id,
          nodeType: String(n.type),
          detail: nodeDetail(n),
          problems: probs.map((p) => `${p.code}: ${p.message}`),
          ...(warns.length ? { warnings: warns.map((w) => `${w.code}: ${w.message}`) } : {}),
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
  options: {
    /** Node types by id: edges leaving a condition node are drawn from its true/false/other port. */
    nodeTypes?: ReadonlyMap<string, string>;
    /** Warnings pinned to edges (drawn amber, with a "!" in the label). */
    warnings?: ReadonlyMap<number, readonly unknown[]>;
  } = {},
): Edge[] {
  return edges.map((e, i) => {
    const bad = (problems.get(i)?.length ?? 0) > 0;
    const warned = !bad && (options.warnings?.get(i)?.length ?? 0) > 0;
    const t = taken?.get(i);
    const sourceType = options.nodeTypes?.get(e.from);
    const label = edgeDisplayLabel(e, sourceType);
    const edge: Edge = {
      id: edgeId(i),
      type: 'trellis',
      source: e.from,
      target: e.to,
      selected: selected.has(i),
      markerEnd: { type: MarkerType.ArrowClosed, width: 18, height: 18 },
      className: [
        bad ? 'edge-error' : '',
        warned ? 'edge-warning' : '',
        t === true ? 'edge-taken' : t === false ? 'edge-not-taken' : '',
      ]
        .join(' ')
        .trim(),
      ariaLabel: `Edge ${e.from} to ${e.to}${e.condition ? ` when ${e.condition}` : ''}${warned ? ' (warning)' : ''}`,
    };
    if (sourceType === 'condition') edge.sourceHandle = edgePort(e);
    const shown = warned ? `! ${label ?? 'no condition'}` : label;
    if (shown) edge.label = shown.length > 40 ? `${shown.slice(0, 39)}…` : shown;
    if (bad) {
      edge.style = { stroke: '#b42318', strokeWidth: 2 };
      edge.markerEnd = { type: MarkerType.ArrowClosed, width: 18, height: 18, color: '#b42318' };
    } else if (warned) {
      edge.style = { stroke: '#b7791f', strokeWidth: 2, strokeDasharray: '6 3' };
      edge.markerEnd = { type: MarkerType.ArrowClosed, width: 18, height: 18, color: '#b7791f' };
    }
    return edge;
  });
}
