/**
 * A template's graph drawn small (SVG, laid out like the builder's auto-layout), so a user sees
 * what a template builds before creating a workflow from it.
 */
import type { WorkflowDefinition } from '../api/types.ts';
import { layoutPositions, NODE_HEIGHT, NODE_WIDTH } from '../editor/layout.ts';

export function TemplatePreview({ definition }: { definition: WorkflowDefinition | undefined }) {
  const nodes = Array.isArray(definition?.nodes) ? (definition.nodes as { id: string; type: string }[]) : [];
  const edges = Array.isArray(definition?.edges) ? (definition.edges as { from: string; to: string }[]) : [];
  if (nodes.length === 0) return <p className="muted small">No nodes to preview.</p>;
  const pos = layoutPositions(nodes, edges);
  const xs = Object.values(pos);
  const minX = Math.min(...xs.map((p) => p.x)) - 10;
  const minY = Math.min(...xs.map((p) => p.y)) - 10;
  const w = Math.max(...xs.map((p) => p.x)) + NODE_WIDTH + 10 - minX;
  const h = Math.max(...xs.map((p) => p.y)) + NODE_HEIGHT + 10 - minY;
  return (
    <svg
      className="template-preview"
      viewBox={`${minX} ${minY} ${w} ${h}`}
      role="img"
      aria-label={`Graph: ${nodes.length} nodes, ${edges.length} edges`}
    >
      {edges.map((e) => {
        const a = pos[e.from];
        const b = pos[e.to];
        if (!a || !b) return null;
        const x1 = a.x + NODE_WIDTH;
        const y1 = a.y + NODE_HEIGHT / 2;
        const x2 = b.x;
        const y2 = b.y + NODE_HEIGHT / 2;
        const dx = Math.max(30, (x2 - x1) / 2);
        return (
          <path
            key={`${e.from}>${e.to}`}
            className="pv-edge"
            d={`M${x1},${y1} C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}`}
            strokeWidth={2}
          />
        );
      })}
      {nodes.map((n) => {
        const p = pos[n.id];
        if (!p) return null;
        return (
          <g key={n.id}>
            <rect className="pv-node" x={p.x} y={p.y} width={NODE_WIDTH} height={NODE_HEIGHT} rx={8} strokeWidth={2} />
            <text x={p.x + 10} y={p.y + 24}>
              {n.id.length > 22 ? `${n.id.slice(0, 21)}…` : n.id}
            </text>
            <text x={p.x + 10} y={p.y + 42} opacity={0.7}>
              {n.type}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
