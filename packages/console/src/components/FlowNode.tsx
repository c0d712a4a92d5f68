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
  /** Warnings pinned to this node (builder): the workflow is valid, but probably not as meant. */
  warnings?: readonly string[];
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

/**
 * Above this many nodes the builder and the run view mount only the nodes and edges in view
 * (xyflow's `onlyRenderVisibleElements`; panning mounts what comes into view).
 */
export const VISIBLE_ONLY_NODE_LIMIT = 150;

/** How the builder and the run view fit a graph into the canvas. */
export const FIT_VIEW_OPTIONS = { maxZoom: 1, minZoom: READABLE_ZOOM } as const;

/** A handle's drawn size; its hit area is larger (CSS), at least 20 px. */
export const HANDLE_SIZE = 12;
const H = HANDLE_SIZE;

/** Handles declared up front so xyflow need not measure them (cheaper with many nodes). */
export const NODE_HANDLES = [
  { type: 'target' as const, position: Position.Left, x: -H / 2, y: NODE_HEIGHT / 2 - H / 2, width: H, height: H },
  { type: 'source' as const, position: Position.Right, x: NODE_WIDTH - H / 2, y: NODE_HEIGHT / 2 - H / 2, width: H, height: H },
];

/** Where a condition node's ports sit (fractions of the node's height, right side; `other` at the bottom). */
const TRUE_AT = 0.3;
const FALSE_AT = 0.72;

/** A condition node: `true` and `false` ports on the right, `other` (any other condition, or none) at the bottom. */
export const CONDITION_HANDLES = [
  NODE_HANDLES[0]!,
  {
    id: 'true',
    type: 'source' as const,
    position: Position.Right,
    x: NODE_WIDTH - H / 2,
    y: NODE_HEIGHT * TRUE_AT - H / 2,
    width: H,
    height: H,
  },
  {
    id: 'false',
    type: 'source' as const,
    position: Position.Right,
    x: NODE_WIDTH - H / 2,
    y: NODE_HEIGHT * FALSE_AT - H / 2,
    width: H,
    height: H,
  },
  {
    id: 'other',
    type: 'source' as const,
    position: Position.Bottom,
    x: NODE_WIDTH / 2 - H / 2,
    y: NODE_HEIGHT - H / 2,
    width: H,
    height: H,
  },
];

function FlowNodeView({ data, selected }: NodeProps<FlowNodeType>) {
  const cls = ['tnode', `type-${data.nodeType}`];
  if (selected) cls.push('selected');
  if (data.problems && data.problems.length > 0) cls.push('has-error');
  else if (data.warnings && data.warnings.length > 0) cls.push('has-warning');
  if (data.status) cls.push(`st-${data.status}`);
  if (data.reusedFrom) cls.push('reused');
  return (
    <div
      className={cls.join(' ')}
      title={
        data.reusedFrom
          ? `reused from run ${data.reusedFrom} (not executed)`
          : [...(data.problems ?? []), ...(data.warnings ?? [])].join('\n') || undefined
      }
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
      ) : data.warnings && data.warnings.length > 0 ? (
        <div className="tnode-warn">
          {data.warnings.length} warning{data.warnings.length > 1 ? 's' : ''}
        </div>
      ) : (
        data.detail && <div className="tnode-type tnode-detail">{data.detail}</div>
      )}
      {data.nodeType === 'condition' ? (
        <>
          <Handle
            type="source"
            id="true"
            position={Position.Right}
            style={{ top: `${TRUE_AT * 100}%` }}
            title={`true: an edge from here is taken when $${data.nodeId}.value = true`}
          />
          <span className="port-label" style={{ top: `${TRUE_AT * 100}%` }}>
            true
          </span>
          <Handle
            type="source"
            id="false"
            position={Position.Right}
            style={{ top: `${FALSE_AT * 100}%` }}
            title={`false: an edge from here is taken when $${data.nodeId}.value = false`}
          />
          <span className="port-label" style={{ top: `${FALSE_AT * 100}%` }}>
            false
          </span>
          <Handle type="source" id="other" position={Position.Bottom} title="other: an edge with a condition you write" />
        </>
      ) : (
        <Handle type="source" position={Position.Right} />
      )}
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
