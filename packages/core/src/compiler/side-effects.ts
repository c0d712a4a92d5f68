/**
 * `sideEffects: "irreversible"` (docs/retry.md) matters only for nodes that reach outside the
 * engine (agent and tool calls): a retry never runs them again without an approval. On the
 * engine's own node types it would change nothing, so the compiler says so (a warning).
 */
import type { NodeDefinition } from '../definition.ts';
import { pointer } from './pointer.ts';
import type { Problems } from './problems.ts';

const OUTSIDE: ReadonlySet<string> = new Set(['agent_call', 'tool_call', 'map', 'workflow']);

export function checkSideEffects(nodes: readonly (NodeDefinition | undefined)[], p: Problems): void {
  nodes.forEach((n, i) => {
    if (n?.sideEffects !== 'irreversible' || OUTSIDE.has(n.type)) return;
    p.warn(
      'SIDE_EFFECTS_IGNORED',
      `node '${n.id}' is a ${n.type}, which has no effect outside the run, so "sideEffects": "irreversible" changes nothing; put it on the agent or tool call that has the effect`,
      `${pointer('nodes', i)}/sideEffects`,
      [n.id],
    );
  });
}
