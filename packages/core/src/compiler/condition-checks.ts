/**
 * Warnings for branching mistakes the schema and graph checks accept (a workflow with them
 * still compiles and runs; the console marks them on the edge or node):
 *
 * - CONDITION_EDGE_WITHOUT_CONDITION: an edge leaves a `condition` node without a condition of
 *   its own, so it is taken whatever the node's value (the node decides nothing for it).
 * - UNKNOWN_NAME: an expression reads a bare name (`tru`, `hotels`) that is neither `context`
 *   nor a node id. A bare name reads a field of the scope, so it is always undefined and a
 *   comparison with it is always false: a typo for `true`, or a forgotten `$`.
 */
import type { EdgeDefinition, NodeDefinition } from '../definition.ts';
import { bareScopeNames, suggestForBareName } from '../expressions/bare-names.ts';
import { pointer, shortName } from './pointer.ts';
import type { Problems } from './problems.ts';

export function checkConditions(
  ids: readonly (string | undefined)[],
  nodes: readonly (NodeDefinition | undefined)[],
  edges: readonly (EdgeDefinition | undefined)[],
  p: Problems,
): void {
  const typeById = new Map<string, string>();
  nodes.forEach((n) => {
    if (n) typeById.set(n.id, n.type);
  });
  const known = ['context', 'item', 'index', ...ids.filter((x): x is string => typeof x === 'string')];
  const knownSet = new Set(known);
  const bare = (source: unknown, path: string, nodeIds: string[]) => {
    if (typeof source !== 'string') return;
    for (const b of bareScopeNames(source)) {
      if (knownSet.has(b.name)) continue;
      const hint = suggestForBareName(b.name, known);
      p.warn(
        'UNKNOWN_NAME',
        `'${shortName(b.name)}' (at character ${b.start}) is not a value or a variable: a bare name reads nothing here, so it is always undefined${hint ? `; did you mean ${hint}?` : "; write $name for a node's output or quote a string"}`,
        path,
        nodeIds,
      );
    }
  };
  nodes.forEach((n, i) => {
    if (!n) return;
    if (n.type === 'condition' || n.type === 'transform') bare(n.expression, `${pointer('nodes', i)}/expression`, [n.id]);
    if (n.type === 'map' && n.do.type === 'transform') bare(n.do.expression, `${pointer('nodes', i)}/do/expression`, [n.id]);
  });
  edges.forEach((e, j) => {
    if (!e) return;
    if (e.condition === undefined) {
      if (typeById.get(e.from) === 'condition') {
        const from = shortName(e.from);
        p.warn(
          'CONDITION_EDGE_WITHOUT_CONDITION',
          `the edge ${from} → ${shortName(e.to)} leaves a condition node without a condition, so it is taken whatever ${from} decides; add "$${from}.value = true" (or "= false")`,
          pointer('edges', j),
          [e.from, e.to],
        );
      }
      return;
    }
    bare(e.condition, `${pointer('edges', j)}/condition`, [e.from, e.to]);
  });
}
