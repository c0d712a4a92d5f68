/** Last pass: the indexed CompiledWorkflow the scheduler runs on (only for a valid definition). */
import type { CompiledEdge, CompiledNode, CompiledWorkflow } from '../compiled.ts';
import { MAP_DEFAULTS, type NodeDefinition, RETRY_DEFAULTS, type WorkflowDefinition } from '../definition.ts';
import { criticalPath, type Graph } from './graph.ts';
import type { Reachability } from './reachability.ts';

/** Duration estimate of a node without `estimatedMs`, for the critical path. */
export const DEFAULT_ESTIMATED_MS = 1;

export function buildCompiled(
  definition: WorkflowDefinition,
  g: Graph,
  order: readonly number[],
  level: Int32Array,
  reach: Reachability,
  references: readonly string[][],
): CompiledWorkflow {
  const weights = new Float64Array(g.n);
  const nodes: CompiledNode[] = definition.nodes.map((def, index) => {
    const estimatedMs = def.estimatedMs ?? DEFAULT_ESTIMATED_MS;
    weights[index] = estimatedMs;
    return {
      index,
      id: def.id,
      type: def.type,
      def,
      incoming: g.incoming[index] as number[],
      outgoing: g.outgoing[index] as number[],
      predecessors: g.predecessors[index] as number[],
      successors: g.successors[index] as number[],
      level: level[index] as number,
      estimatedMs,
      onError: def.onError ?? 'fail',
      joinMode: def.type === 'join' ? (def.mode ?? 'all') : undefined,
      retry: def.retry ? Object.freeze({ ...RETRY_DEFAULTS, ...def.retry }) : RETRY_DEFAULTS,
      references: references[index] ?? [],
      map:
        def.type === 'map'
          ? {
              concurrency: def.concurrency ?? MAP_DEFAULTS.concurrency,
              maxItems: def.maxItems ?? MAP_DEFAULTS.maxItems,
              onItemError: def.onItemError ?? MAP_DEFAULTS.onItemError,
              body: { ...def.do, id: def.id } as NodeDefinition,
              retry: def.do.retry ? Object.freeze({ ...RETRY_DEFAULTS, ...def.do.retry }) : RETRY_DEFAULTS,
            }
          : undefined,
    };
  });
  const edges: CompiledEdge[] = definition.edges.map((def, index) => ({
    index,
    from: g.edgeFrom[index] as number,
    to: g.edgeTo[index] as number,
    def,
    condition: def.condition,
  }));
  const levels: number[][] = [];
  for (const v of order) {
    const l = level[v] as number;
    while (levels.length <= l) levels.push([]);
    (levels[l] as number[]).push(v);
  }
  const entries: number[] = [];
  const sinks: number[] = [];
  for (let i = 0; i < g.n; i++) {
    if ((g.predecessors[i] as number[]).length === 0) entries.push(i);
    if ((g.successors[i] as number[]).length === 0) sinks.push(i);
  }
  const cp = criticalPath(g, order, weights);
  return {
    definition,
    nodes,
    edges,
    indexById: g.indexById,
    order,
    levels,
    entries,
    sinks,
    criticalPath: { nodes: cp.nodes.map((i) => nodes[i]?.id as string), estimatedMs: cp.total },
    isAncestor: (a, d) => reach.isAncestor(a, d),
    ancestorsOf: (v) => reach.ancestorsOf(v),
  };
}
