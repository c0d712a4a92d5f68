/**
 * The builder's canvas: the document's nodes and edges drawn by xyflow, edited with the mouse
 * and keyboard. Kept cheap to drag in big graphs (500 nodes at 60 fps):
 *
 * - A drag moves the nodes in xyflow's store directly, from the pointer event; the document
 *   (and with it the page: inspector, panels, validation) changes once, when the drag ends
 *   (`onMove` with `'drag'`, one undo step). A frame of a drag re-renders the moved nodes and
 *   their edges only.
 * - Every prop given to xyflow is stable across renders: xyflow copies changed props into its
 *   store, and each store update runs the selectors of every node and edge on the canvas.
 * - Graphs above `VISIBLE_ONLY_NODE_LIMIT` nodes mount only the nodes and edges in view.
 */
import {
  Background,
  type Connection,
  Controls,
  type Edge,
  type EdgeChange,
  MiniMap,
  type NodeChange,
  ReactFlow,
  type ReactFlowInstance,
  useStoreApi,
  type Viewport,
} from '@xyflow/react';
import { type DragEvent, type FocusEvent, memo, type ReactNode, useCallback, useMemo, useRef, useState } from 'react';
import type { ThemeChoice } from '../app/theme.ts';
import type { DraftEdge, DraftNode, XY } from '../editor/doc.ts';
import { FlowNodeCache, mapEdges } from '../editor/flow-mapping.ts';
import { NODE_HEIGHT, NODE_WIDTH } from '../editor/layout.ts';
import type { PinnedProblems } from '../editor/validate.ts';
import { EdgeObstacles, edgeTypes, obstacleRects } from './FlowEdge.tsx';
import { FIT_VIEW_OPTIONS, type FlowNodeType, LOW_DETAIL_ZOOM, nodeTypes, VISIBLE_ONLY_NODE_LIMIT } from './FlowNode.tsx';

/** The mini map is drawn up to this many nodes (it redraws every node on every change). */
const MINIMAP_NODE_LIMIT = 300;

/** How a move ends up in the document: a whole drag (one undo step) or a keyboard step. */
export type MoveKind = 'drag' | 'step';

export interface BuilderCanvasProps {
  nodes: readonly DraftNode[];
  edges: readonly DraftEdge[];
  selectedNodes: ReadonlySet<string>;
  selectedEdges: ReadonlySet<number>;
  problems: PinnedProblems;
  theme: ThemeChoice;
  /** Fit the graph into view when the canvas opens. */
  fitOnOpen: boolean;
  onMove(positions: Record<string, XY>, kind: MoveKind): void;
  /** Selection changes of nodes (xyflow's `select` changes). */
  onSelectNodes(changes: readonly { id: string; selected: boolean }[]): void;
  onEdgesChange(changes: EdgeChange[]): void;
  onConnect(c: Connection): void;
  onDelete(nodeIds: string[], edgeIds: string[]): void;
  onDrop(e: DragEvent): void;
  /** A node got the keyboard focus (not by a mouse press): the page brings it into view. */
  onFocusNode(position: XY): void;
  /** Shown over the canvas (the empty state). */
  children?: ReactNode;
}

const DEFAULT_VIEWPORT: Viewport = { x: 0, y: 0, zoom: 1 };
const PRO_OPTIONS = { hideAttribution: true };
const MINIMAP_STYLE = { width: 150, height: 100 };
// Created once, so that a render of the canvas does not re-render them.
const CANVAS_CHROME = (
  <>
    <Background />
    <Controls />
  </>
);
const MINIMAP = <MiniMap pannable zoomable ariaLabel="Mini map" style={MINIMAP_STYLE} />;
const isValidConnection = (c: Connection | Edge) => c.source !== c.target;
const onDragOver = (e: DragEvent) => {
  e.preventDefault();
  e.dataTransfer.dropEffect = 'move';
};

/** A node where it is being dragged (`dragging` gives it its own layer, styles.css). */
function withDragPosition(n: FlowNodeType, at: XY | undefined): FlowNodeType {
  return at ? { ...n, position: at, dragging: true } : n;
}

function BuilderCanvasView(props: BuilderCanvasProps) {
  const { nodes, edges, selectedNodes, selectedEdges, problems } = props;
  /** Positions of the nodes being dragged, until the drag ends. */
  const draggedRef = useRef<Map<string, XY>>(new Map());
  const store = useStoreApi<FlowNodeType>();
  const [lowDetail, setLowDetail] = useState(false);
  const cache = useRef(new FlowNodeCache());
  // The handlers read the latest props through a ref, so xyflow gets the same functions always.
  const latest = useRef(props);
  latest.current = props;

  const flowNodes = useMemo(() => {
    const flow = cache.current.map(nodes, selectedNodes, problems.byNode, undefined, problems.warnByNode);
    // Re-rendered in the middle of a drag (the selection changed): the dragged nodes stay where they are.
    const dragged = draggedRef.current;
    return dragged.size === 0 ? flow : flow.map((n) => withDragPosition(n, dragged.get(n.id)));
  }, [nodes, selectedNodes, problems]);
  // What depends on ids and types alone (every edge's props) stays the same object when only
  // positions change; otherwise every edge would re-render.
  const typeKey = useMemo(() => nodes.map((n) => `${n.id}\u0000${String(n.type)}`).join('\u0001'), [nodes]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: typeKey stands for the ids and types of nodes
  const nodeTypeMap = useMemo(() => new Map(nodes.map((n) => [n.id, String(n.type)])), [typeKey]);
  const flowEdges = useMemo(
    () => mapEdges(edges, selectedEdges, problems.byEdge, undefined, { nodeTypes: nodeTypeMap, warnings: problems.warnByEdge }),
    [edges, selectedEdges, problems, nodeTypeMap],
  );
  // Edges route round the nodes as the document has them (during a drag: where it started).
  const obstacles = useMemo(() => obstacleRects(nodes, NODE_WIDTH, NODE_HEIGHT), [nodes]);

  /** Hands the drag's positions to the document and forgets them here (the same render). */
  const endDrag = useCallback(
    (final: Record<string, XY>) => {
      const moved = draggedRef.current;
      const positions: Record<string, XY> = { ...Object.fromEntries(moved), ...final };
      moved.clear();
      if (Object.keys(positions).length === 0) return;
      // Where they were dropped, no longer dragging (until the document, changed below, redraws them).
      const s = store.getState();
      s.setNodes(s.nodes.map((n) => (positions[n.id] ? { ...n, position: positions[n.id] as XY, dragging: false } : n)));
      latest.current.onMove(positions, 'drag');
    },
    [store],
  );

  const onNodesChange = useCallback(
    (changes: NodeChange<FlowNodeType>[]) => {
      let dragging = false;
      let ended: Record<string, XY> | undefined;
      const selects: { id: string; selected: boolean }[] = [];
      for (const c of changes) {
        if (c.type === 'position' && c.position) {
          if (c.dragging) {
            draggedRef.current.set(c.id, c.position);
            dragging = true;
          } else {
            ended ??= {};
            ended[c.id] = c.position;
          }
        } else if (c.type === 'select') selects.push({ id: c.id, selected: c.selected });
      }
      if (dragging) {
        // Straight into xyflow's store (as xyflow does with uncontrolled nodes): no React render
        // of the canvas, one store update per pointer move.
        const s = store.getState();
        const dragged = draggedRef.current;
        s.setNodes(s.nodes.map((n) => withDragPosition(n, dragged.get(n.id))));
      }
      if (ended) {
        // The last change of a drag comes with `dragging: false`; a move outside a drag is a
        // keyboard step (arrow keys).
        if (draggedRef.current.size > 0) endDrag(ended);
        else latest.current.onMove(ended, 'step');
      }
      if (selects.length) latest.current.onSelectNodes(selects);
    },
    [endDrag, store],
  );
  // A drag that ended without a final position change keeps where it was dropped.
  const onNodeDragStop = useCallback(() => {
    if (draggedRef.current.size > 0) endDrag({});
  }, [endDrag]);
  const onEdgesChange = useCallback((c: EdgeChange[]) => latest.current.onEdgesChange(c), []);
  const onConnect = useCallback((c: Connection) => latest.current.onConnect(c), []);
  const onDelete = useCallback(
    ({ nodes: ns, edges: es }: { nodes: FlowNodeType[]; edges: Edge[] }) =>
      latest.current.onDelete(
        ns.map((n) => n.id),
        es.map((e) => e.id),
      ),
    [],
  );
  const onInit = useCallback((f: ReactFlowInstance<FlowNodeType>) => setLowDetail(f.getZoom() < LOW_DETAIL_ZOOM), []);
  const onViewportMove = useCallback((_: unknown, vp: Viewport) => setLowDetail(vp.zoom < LOW_DETAIL_ZOOM), []);
  const onDrop = useCallback((e: DragEvent) => latest.current.onDrop(e), []);
  const onFocus = useCallback((e: FocusEvent) => {
    // A node focused by keyboard is always in view, with its ring (styles.css): pan to it
    // when needed. Not on a mouse press (that would move the canvas under a drag).
    const t = e.target as HTMLElement;
    if (!t.matches?.(':focus-visible')) return;
    const id = t.closest?.('.react-flow__node')?.getAttribute('data-id');
    const n = id ? latest.current.nodes.find((x) => x.id === id) : undefined;
    if (n) latest.current.onFocusNode(n.position);
  }, []);

  return (
    <section
      className={lowDetail ? 'canvas low-detail' : 'canvas'}
      aria-label="Canvas"
      onDragOver={onDragOver}
      onDrop={onDrop}
      tabIndex={-1}
      onFocus={onFocus}
    >
      <EdgeObstacles.Provider value={obstacles}>
        <ReactFlow<FlowNodeType>
          nodes={flowNodes}
          edges={flowEdges}
          nodeTypes={nodeTypes}
          edgeTypes={edgeTypes}
          colorMode={props.theme}
          onNodesChange={onNodesChange}
          onEdgesChange={onEdgesChange}
          onConnect={onConnect}
          onDelete={onDelete}
          onNodeDragStop={onNodeDragStop}
          isValidConnection={isValidConnection}
          deleteKeyCode={null}
          fitView={props.fitOnOpen}
          fitViewOptions={FIT_VIEW_OPTIONS}
          defaultViewport={DEFAULT_VIEWPORT}
          minZoom={0.05}
          onlyRenderVisibleElements={nodes.length > VISIBLE_ONLY_NODE_LIMIT}
          onInit={onInit}
          onMove={onViewportMove}
          proOptions={PRO_OPTIONS}
        >
          {CANVAS_CHROME}
          {nodes.length <= MINIMAP_NODE_LIMIT && nodes.length > 1 && MINIMAP}
        </ReactFlow>
      </EdgeObstacles.Provider>
      {props.children}
    </section>
  );
}

export const BuilderCanvas = memo(BuilderCanvasView);
