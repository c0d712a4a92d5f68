/**
 * The definition a builder test runs: the node under test and everything upstream of it (so
 * every binding it has still resolves), with the edges between them. Downstream nodes, the
 * workflow's output bindings and its triggers are left out: a test never fires a trigger and
 * ends at the node tested.
 */
import type { CompiledWorkflow, WorkflowDefinition } from '@trellis/core';

/** Ids of `nodeId` and its ancestors, in definition order. */
export function upstreamClosure(compiled: CompiledWorkflow, nodeId: string): string[] {
  const start = compiled.indexById.get(nodeId);
  if (start === undefined) return [];
  const keep = new Set<number>([start]);
  const stack = [start];
  while (stack.length > 0) {
    const i = stack.pop()!;
    for (const p of compiled.nodes[i]!.predecessors) {
      if (keep.has(p)) continue;
      keep.add(p);
      stack.push(p);
    }
  }
  return compiled.nodes.filter((_, i) => keep.has(i)).map((n) => n.id);
}

export function testDefinition(definition: WorkflowDefinition, keep: readonly string[]): WorkflowDefinition {
  const ids = new Set(keep);
  const { output: _output, triggers: _triggers, ...rest } = definition;
  return {
    ...rest,
    nodes: definition.nodes.filter((n) => ids.has(n.id)),
    edges: (definition.edges ?? []).filter((e) => ids.has(e.from) && ids.has(e.to)),
  };
}
