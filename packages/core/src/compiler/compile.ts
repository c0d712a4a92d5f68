/**
 * The compiler (SPEC §2): from a parsed JSON/YAML value to a CompiledWorkflow, or to every
 * problem found. Passes, each reporting into one list and none stopping the others:
 *
 * 1. shape   — zod schema, node ids, node types, type-specific fields (shape.ts)
 * 2. graph   — ids indexed, edges resolved, Kahn order or one cycle (graph.ts)
 * 3. reach   — unreachable and isolated nodes (here)
 * 4. binding — every reference, template and expression (binding-analysis.ts)
 * 5. build   — levels, critical path, the indexed CompiledWorkflow (build.ts)
 * (and triggers — unique ids, valid cron and time zones, webhook input mappings (triggers.ts))
 */
import type { CompileResult } from '../compiled.ts';
import type { WorkflowDefinition } from '../definition.ts';
import type { ValidationError } from '../errors.ts';
import { analyzeBindings } from './binding-analysis.ts';
import { buildCompiled } from './build.ts';
import { checkConditions } from './condition-checks.ts';
import { buildGraph, computeLevels, type Graph, topoSort } from './graph.ts';
import { pointer, shortName } from './pointer.ts';
import { Problems } from './problems.ts';
import { Reachability } from './reachability.ts';
import { checkShape } from './shape.ts';
import { checkSideEffects } from './side-effects.ts';
import { checkTriggers } from './triggers.ts';

export interface CompileOptions {
  /** Largest node count accepted (default 200,000): beyond it the definition is refused outright. */
  maxNodes?: number;
  /** Largest edge count accepted (default 1,000,000). */
  maxEdges?: number;
}

export const DEFAULT_MAX_NODES = 200_000;
export const DEFAULT_MAX_EDGES = 1_000_000;

export function compile(definition: unknown, options: CompileOptions = {}): CompileResult {
  const p = new Problems();
  const tooBig = checkSize(definition, options);
  if (tooBig) return { ok: false, compiled: undefined, errors: [tooBig], warnings: [] };

  const shape = checkShape(definition, p);
  const g = buildGraph(shape.ids, shape.edges, p);
  const { order, cycle } = topoSort(g);
  if (cycle.length > 0) {
    const names = cycle.map((i) => shortName(shape.ids[i] ?? '?'));
    p.error(
      'CYCLE',
      `the graph has a cycle: ${[...names, names[0]].join(' → ')}; remove one of these edges (loops are not supported, a workflow is a DAG)`,
      pointer('nodes', cycle[0] as number),
      names,
    );
  }
  checkReachable(g, shape.ids, cycle, p);
  checkSideEffects(shape.nodes, p);
  checkConditions(shape.ids, shape.nodes, shape.edges, p);

  const acyclic = cycle.length === 0;
  const level = computeLevels(g, order);
  const reach = acyclic ? new Reachability(order, level, g.predecessors) : undefined;
  checkTriggers(shape.top?.triggers, p);
  const { references } = analyzeBindings(shape.ids, shape.nodes, shape.edges, shape.top?.output, g, reach, p);

  if (p.errors.length > 0 || !shape.top || !reach) {
    return { ok: false, compiled: undefined, errors: p.errors, warnings: p.warnings };
  }
  const definitionOut = { ...shape.top, nodes: shape.nodes, edges: shape.edges } as WorkflowDefinition;
  const compiled = buildCompiled(definitionOut, g, order, level, reach, references);
  return { ok: true, compiled, errors: [], warnings: p.warnings };
}

/** `{ valid, errors, warnings }`: what `trellis validate --json` and the API print. */
export function validateDefinition(
  definition: unknown,
  options?: CompileOptions,
): { valid: boolean; errors: ValidationError[]; warnings: ValidationError[] } {
  const r = compile(definition, options);
  return { valid: r.ok, errors: r.errors, warnings: r.warnings };
}

function checkSize(doc: unknown, options: CompileOptions): ValidationError | undefined {
  if (doc === null || typeof doc !== 'object') return undefined;
  const maxNodes = options.maxNodes ?? DEFAULT_MAX_NODES;
  const maxEdges = options.maxEdges ?? DEFAULT_MAX_EDGES;
  const { nodes, edges } = doc as { nodes?: unknown; edges?: unknown };
  if (Array.isArray(nodes) && nodes.length > maxNodes) {
    return {
      code: 'SCHEMA',
      message: `the workflow has ${nodes.length} nodes; the limit is ${maxNodes}; split it into smaller workflows`,
      path: '/nodes',
    };
  }
  if (Array.isArray(edges) && edges.length > maxEdges) {
    return { code: 'SCHEMA', message: `the workflow has ${edges.length} edges; the limit is ${maxEdges}`, path: '/edges' };
  }
  return undefined;
}

/**
 * In a DAG every node is reachable from an entry (a node without predecessors), so this finds
 * isolated nodes (no edges in a workflow of several nodes) and, when there is a cycle, nodes
 * that only a cycle leads to. Nodes of the reported cycle are left to the CYCLE error.
 */
function checkReachable(g: Graph, ids: readonly (string | undefined)[], cycle: readonly number[], p: Problems): void {
  let members = 0;
  for (let i = 0; i < g.n; i++) members += g.member[i] as number;
  if (members < 2) return;
  const reached = new Uint8Array(g.n);
  const stack: number[] = [];
  for (let i = 0; i < g.n; i++) {
    if (g.member[i] && (g.predecessors[i] as number[]).length === 0) {
      reached[i] = 1;
      stack.push(i);
    }
  }
  while (stack.length > 0) {
    for (const s of g.successors[stack.pop() as number] as number[]) {
      if (!reached[s]) {
        reached[s] = 1;
        stack.push(s);
      }
    }
  }
  const onCycle = new Set(cycle);
  for (let i = 0; i < g.n; i++) {
    if (!g.member[i] || onCycle.has(i)) continue;
    const id = shortName(ids[i] ?? '?');
    const isolated = (g.predecessors[i] as number[]).length === 0 && (g.successors[i] as number[]).length === 0;
    if (isolated) {
      p.error(
        'UNREACHABLE_NODE',
        `node ${id} has no edges, so it is not connected to the workflow; add an edge to or from it, or remove it`,
        pointer('nodes', i),
        [id],
      );
    } else if (!reached[i]) {
      p.error(
        'UNREACHABLE_NODE',
        `node ${id} cannot be reached from any entry node (only a cycle leads to it); connect it to an entry path`,
        pointer('nodes', i),
        [id],
      );
    }
  }
}
