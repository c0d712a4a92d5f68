/**
 * The one node component of the canvas, in the builder and the run view. Fixed size (the
 * layout and the handle positions rely on it) and memoised, so a 500-node graph re-renders
 * only the nodes whose data changed.
 */
import { Handle, type Node, type NodeProps, Position } from '@xyflow/react';
import { memo } from 'react';
import { NODE_HEIGHT, NODE_WIDTH } from '../editor/layout.ts';

export interface FlowNodeData extends Record<string, unknown> {
  nodeId: string;
  nodeType: string;
  /** A second line: the agent/skill, tool, or expression. */
  detail?: string;
  /** Problems pinned to this node (builder). */
  problems?: readonly string[];
  /** Node-run status (run view). */
  status?: string;
  attempts?: number;
  /** Run view of a retry: the node was reused from that run, not executed. */
  reusedFrom?: string;
}

export type FlowNodeType = Node<FlowNodeData, 'trellis'>;

/**
 * Below this zoom a node's text is unreadable anyway; the canvas gets a `low-detail` class and
 * CSS drops the text and edge labels, so big graphs paint boxes and lines only. React does not
 * re-render for it: the class changes once when the zoom crosses the threshold.
 */
export const LOW_DETAIL_ZOOM = 0.35;

/**
 * Fitting a graph never zooms out below this: at 0.7 a node's 13 px id is still about 9 px on
 * screen. A graph too big to fit at this zoom is shown from its centre and the user pans (or
 * zooms out further, where the canvas switches to low detail).
 */
export const READABLE_ZOOM = 0.7;

/** How the builder and the run view fit a graph into the canvas. */
export const FIT_VIEW_OPTIONS = { maxZoom: 1, minZoom: READABLE_ZOOM } as const;

/** Handles declared up front so xyflow need not measure them (cheaper with many nodes). */
export const NODE_HANDLES = [
  { type: 'target' as const, position: Position.Left, x: -4, y: NODE_HEIGHT / 2 - 4, width: 8, height: 8 },
  { type: 'source' as const, position: Position.Right, x: NODE_WIDTH - 4, y: NODE_HEIGHT / 2 - 4, width: 8, height: 8 },
];

function FlowNodeView({ data, selected }: NodeProps<FlowNodeType>) {
  const cls = ['tnode', `type-${data.nodeType}`];
  if (selected) cls.push('selected');
  if (data.problems && data.problems.length > 0) cls.push('has-error');
  if (data.status) cls.push(`st-${data.status}`);
  if (data.reusedFrom) cls.push('reused');
  return (
    <div
      className={cls.join(' ')}
      title={data.reusedFrom ? `reused from run ${data.reusedFrom} (not executed)` : data.problems?.join('\n')}
      data-node-id={data.nodeId}
      data-status={data.status}
      data-reused={data.reusedFrom ? 'true' : undefined}
    >
      <Handle type="target" position={Position.Left} />
      <div className="tnode-id">{data.nodeId}</div>
      <div className="tnode-type">
        {data.nodeType}
        {data.status ? ` · ${data.reusedFrom ? 'reused' : data.status}` : ''}
        {data.attempts && data.attempts > 1 ? ` · ${data.attempts} attempts` : ''}
      </div>
      {data.problems && data.problems.length > 0 ? (
        <div className="tnode-err">
          {data.problems.length} problem{data.problems.length > 1 ? 's' : ''}
        </div>
      ) : (
        data.detail && <div className="tnode-type tnode-detail">{data.detail}</div>
      )}
      <Handle type="source" position={Position.Right} />
    </div>
  );
}

export const FlowNode = memo(FlowNodeView);
export const nodeTypes = { trellis: FlowNode };

/** The second line shown for a node. */
export function nodeDetail(n: Record<string, unknown>): string | undefined {
  const s = (v: unknown) => (typeof v === 'string' ? v : undefined);
  switch (n.type) {
    case 'agent_call': {
      const agent = typeof n.agent === 'object' && n.agent ? s((n.agent as { url?: unknown }).url) : s(n.agent);
      return agent ? `${agent}${n.skill ? ` · ${String(n.skill)}` : ''}` : undefined;
    }
    case 'tool_call':
      return s(n.tool);
    case 'condition':
    case 'transform':
      return s(n.expression);
    case 'human_gate':
      return s(n.prompt);
    case 'join':
      return `mode ${s(n.mode) ?? 'all'}`;
    default:
      return undefined;
  }
}
