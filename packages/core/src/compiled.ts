/**
 * The compiled form of a workflow version: the graph indexed for the scheduler. Produced once
 * per version by `compile()` and cached; the scheduler never re-derives any of it per step.
 * Nodes and edges are addressed by dense integer indexes so the hot path works on arrays.
 */
import type { EdgeDefinition, NodeDefinition, NodeType, RetryPolicy, WorkflowDefinition } from './definition.ts';
import type { ValidationError } from './errors.ts';

export interface CompiledNode {
  /** Position in `CompiledWorkflow.nodes` (the definition's order). */
  readonly index: number;
  readonly id: string;
  readonly type: NodeType;
  readonly def: NodeDefinition;
  /** Edge indexes into `CompiledWorkflow.edges`. */
  readonly incoming: readonly number[];
  readonly outgoing: readonly number[];
  /** Distinct predecessor / successor node indexes. */
  readonly predecessors: readonly number[];
  readonly successors: readonly number[];
  /** Longest-path depth from an entry node (entries are level 0). */
  readonly level: number;
  readonly estimatedMs: number;
  readonly onError: 'fail' | 'continue';
  /** `join` nodes only: `all` (default) or `any`; undefined for every other type. */
  readonly joinMode: 'all' | 'any' | undefined;
  readonly retry: Required<RetryPolicy>;
  /** Node ids this node's bindings, templates and expressions reference (excluding `context`). */
  readonly references: readonly string[];
  /** `map` nodes only: the per-item task and its limits; undefined for every other type. */
  readonly map: CompiledMap | undefined;
}

/** A map node's compiled settings. */
export interface CompiledMap {
  readonly concurrency: number;
  readonly maxItems: number;
  readonly onItemError: 'fail' | 'continue';
  /** The `do` body as a node definition (with the map's id), what executors receive per item. */
  readonly body: NodeDefinition;
  /** The body's retry policy with defaults applied: it applies per item. */
  readonly retry: Required<RetryPolicy>;
}

export interface CompiledEdge {
  readonly index: number;
  readonly from: number;
  readonly to: number;
  readonly def: EdgeDefinition;
  /** The JSONata condition, if any. */
  readonly condition: string | undefined;
}

export interface CriticalPath {
  /** Node ids along the longest weighted path, entry to sink. */
  readonly nodes: readonly string[];
  /** Sum of their `estimatedMs`. */
  readonly estimatedMs: number;
}

export interface CompiledWorkflow {
  readonly definition: WorkflowDefinition;
  readonly nodes: readonly CompiledNode[];
  readonly edges: readonly CompiledEdge[];
  /** Node id → index. */
  readonly indexById: ReadonlyMap<string, number>;
  /** A topological order (Kahn), as node indexes. */
  readonly order: readonly number[];
  /** Execution levels: `levels[k]` holds the node indexes at longest-path depth k. */
  readonly levels: readonly (readonly number[])[];
  readonly entries: readonly number[];
  readonly sinks: readonly number[];
  readonly criticalPath: CriticalPath;
  /** True when node `ancestor` has a path to node `descendant` (not reflexive). */
  isAncestor(ancestor: number, descendant: number): boolean;
  /** All ancestors of a node, as node indexes (computed on demand, never stored for every node). */
  ancestorsOf(node: number): number[];
}

/** What the console and `POST /workflows/validate` show of a compiled workflow. */
export interface CompiledSummary {
  order: string[];
  levels: string[][];
  entries: string[];
  sinks: string[];
  criticalPath: { nodes: string[]; estimatedMs: number };
  nodeCount: number;
  edgeCount: number;
}

export type CompileResult =
  | { ok: true; compiled: CompiledWorkflow; errors: []; warnings: ValidationError[] }
  | { ok: false; compiled: undefined; errors: ValidationError[]; warnings: ValidationError[] };
