/**
 * The canvas's edge: a bezier with an arrowhead that detours round nodes in its way and puts its
 * label where no node is (editor/edge-routing.ts). The rectangles to avoid come from
 * `EdgeObstacles` (the builder and the run view provide them for graphs up to
 * `ROUTED_NODE_LIMIT` nodes; above that edges are plain beziers, cheap to pan and drag).
 */
import { BaseEdge, type Edge, type EdgeProps, Position } from '@xyflow/react';
import { createContext, memo, useContext } from 'react';
import { type Rect, routeEdge, type Side } from '../editor/edge-routing.ts';

/** Graphs with more nodes draw plain beziers (routing re-runs for every edge while a node is dragged). */
export const ROUTED_NODE_LIMIT = 150;

export const EdgeObstacles = createContext<ReadonlyMap<string, Rect> | undefined>(undefined);

const SIDE: Record<Position, Side> = {
  [Position.Left]: 'left',
  [Position.Right]: 'right',
  [Position.Top]: 'top',
  [Position.Bottom]: 'bottom',
};

function FlowEdgeView(props: EdgeProps<Edge>) {
  const rects = useContext(EdgeObstacles);
  const obstacles: Rect[] = [];
  if (rects) for (const [id, r] of rects) if (id !== props.source && id !== props.target) obstacles.push(r);
  const route = routeEdge(
    { x: props.sourceX, y: props.sourceY },
    SIDE[props.sourcePosition],
    { x: props.targetX, y: props.targetY },
    SIDE[props.targetPosition],
    obstacles,
  );
  return (
    <BaseEdge
      id={props.id}
      path={route.path}
      labelX={route.labelX}
      labelY={route.labelY}
      label={props.label}
      labelBgPadding={[4, 2]}
      labelBgBorderRadius={3}
      markerEnd={props.markerEnd}
      style={props.style}
      interactionWidth={props.interactionWidth ?? 16}
    />
  );
}

export const FlowEdge = memo(FlowEdgeView);
export const edgeTypes = { trellis: FlowEdge };

/** The rectangles of the nodes, for EdgeObstacles (undefined above the limit). */
export function obstacleRects(
  nodes: readonly { id: string; position: { x: number; y: number } }[],
  width: number,
  height: number,
): ReadonlyMap<string, Rect> | undefined {
  if (nodes.length > ROUTED_NODE_LIMIT) return undefined;
  return new Map(nodes.map((n) => [n.id, { x: n.position.x, y: n.position.y, width, height }]));
}
