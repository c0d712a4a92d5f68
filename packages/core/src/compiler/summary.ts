/** The compiled form as the console and `POST /workflows/validate` show it: ids, not indexes. */
import type { CompiledSummary, CompiledWorkflow } from '../compiled.ts';

export function summarize(c: CompiledWorkflow): CompiledSummary {
  const id = (i: number) => c.nodes[i]?.id as string;
  return {
    order: c.order.map(id),
    levels: c.levels.map((l) => l.map(id)),
    entries: c.entries.map(id),
    sinks: c.sinks.map(id),
    criticalPath: { nodes: [...c.criticalPath.nodes], estimatedMs: c.criticalPath.estimatedMs },
    nodeCount: c.nodes.length,
    edgeCount: c.edges.length,
  };
}
