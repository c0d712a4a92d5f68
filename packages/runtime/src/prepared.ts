/**
 * A workflow version prepared for execution: compiled once (graph, parsed expressions, binding
 * accessors, input validator) and cached by (workflow, version), so the hot path never parses
 * JSONata or walks the definition again.
 */
import {
  type CompiledWorkflow,
  classifyBindingString,
  compile,
  compileExpression,
  type PreparedBindings,
  type PreparedExpression,
  prepareBindings,
  referencedVariables,
  TrellisError,
  type WorkflowDefinition,
} from '@trellis/core';
import type { Ajv2020, ValidateFunction } from 'ajv/dist/2020.js';
import { lazyModule } from './lazy-module.ts';

export interface PreparedWorkflow {
  readonly key: string;
  readonly compiled: CompiledWorkflow;
  readonly definition: WorkflowDefinition;
  /** Per node: its prepared `input` bindings, if any. */
  readonly inputs: readonly (PreparedBindings | undefined)[];
  /** Per map node: its `items` binding. */
  readonly items: readonly (PreparedBindings | undefined)[];
  /** Per map node: the `input` bindings of its `do` body, resolved per item. */
  readonly itemInputs: readonly (PreparedBindings | undefined)[];
  /** True when some node starts child runs (`workflow` nodes or map bodies). */
  readonly hasChildRuns: boolean;
  /** Per edge: its prepared condition, if any. */
  readonly conditions: readonly (PreparedExpression | undefined)[];
  /** Per node: the ids its bindings/expressions reference (scope to build). */
  readonly references: readonly (readonly string[])[];
  /** Per edge: the variables its condition reads. */
  readonly conditionVariables: readonly (readonly string[])[];
  readonly output: PreparedBindings | undefined;
  /** The ids the `output` bindings reference. */
  readonly outputVariables: readonly string[];
  /** Validates run input; returns the problems, or an empty list. */
  validateInput(input: unknown): string[];
}

/** The JSON Schema validator, loaded and built for the first workflow that declares an `inputSchema`. */
const ajvModule = lazyModule<{ Ajv2020: typeof Ajv2020 }>('ajv/dist/2020.js');
let ajvInstance: Ajv2020 | undefined;
function ajv(): Ajv2020 {
  ajvInstance ??= new (ajvModule().Ajv2020)({ strict: false, allErrors: true, validateSchema: true });
  return ajvInstance;
}

export function prepareWorkflow(key: string, definitionJson: unknown): PreparedWorkflow {
  const result = compile(definitionJson);
  if (!result.ok) {
    throw new TrellisError('DEFINITION_INVALID', `the stored definition does not compile: ${result.errors[0]?.message ?? ''}`, {
      details: result.errors,
    });
  }
  const compiled = result.compiled;
  const definition = compiled.definition;
  const inputs = compiled.nodes.map((n) => (n.def.input === undefined ? undefined : prepareBindings(n.def.input)));
  const items = compiled.nodes.map((n) => (n.def.type === 'map' ? prepareBindings(n.def.items) : undefined));
  const itemInputs = compiled.nodes.map((n) =>
    n.def.type === 'map' && n.def.do.input !== undefined ? prepareBindings(n.def.do.input) : undefined,
  );
  const hasChildRuns = compiled.nodes.some((n) => n.type === 'workflow' || n.map?.body.type === 'workflow');
  const conditions = compiled.edges.map((e) => (e.condition === undefined ? undefined : compileExpression(e.condition)));
  const conditionVariables = conditions.map((c) => (c ? c.variables : []));
  const references = compiled.nodes.map((n) => n.references);
  const output = definition.output === undefined ? undefined : prepareBindings(definition.output);
  const outputVariables = definition.output === undefined ? [] : bindingVariables(definition.output);
  let validate: ValidateFunction | undefined;
  if (definition.inputSchema !== undefined) {
    try {
      validate = ajv().compile(definition.inputSchema);
    } catch (err) {
      throw new TrellisError('DEFINITION_INVALID', `inputSchema is not a valid JSON Schema: ${(err as Error).message}`, {
        category: 'user',
      });
    }
  }
  return {
    key,
    compiled,
    definition,
    inputs,
    items,
    itemInputs,
    hasChildRuns,
    conditions,
    references,
    conditionVariables,
    output,
    outputVariables,
    validateInput(input) {
      if (!validate) return [];
      if (validate(input)) return [];
      return (validate.errors ?? []).map(
        (e) => `${e.instancePath ? `input${e.instancePath.replaceAll('/', '.')}` : 'input'} ${e.message ?? 'is invalid'}`,
      );
    },
  };
}

/**
 * The variables a binding value reads (references and the expressions of its templates), so
 * that only those outputs are sent to the expression sandbox, not every node's.
 */
function bindingVariables(value: unknown): string[] {
  const out = new Set<string>();
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      const c = classifyBindingString(v);
      if (c.kind === 'reference') out.add(c.ref.variable);
      else if (c.kind === 'template')
        for (const p of c.parts) if (p.kind === 'expr') for (const name of referencedVariables(p.source)) out.add(name);
    } else if (Array.isArray(v)) stack.push(...v);
    else if (v !== null && typeof v === 'object') stack.push(...Object.values(v));
  }
  return [...out];
}

/**
 * Bounded cache of prepared versions (a version never changes once saved), least recently used
 * out first (approximately: a hit only marks its entry, and eviction gives a marked entry a second
 * chance, so a hit costs no map mutation — 10,000 scheduled workflows are looked up on every
 * tick). Bounded by nodes rather than entries: a prepared one-node workflow is ~5 KB, so the
 * default (20,000 nodes) keeps 10,000 small scheduled workflows (~50 MB) or 40 of 500 nodes.
 */
export class PreparedCache {
  private readonly map = new Map<string, { p: PreparedWorkflow; used: boolean }>();
  private weight = 0;
  constructor(private readonly maxNodes = 20_000) {}

  get(key: string): PreparedWorkflow | undefined {
    const slot = this.map.get(key);
    if (slot === undefined) return undefined;
    slot.used = true;
    return slot.p;
  }

  set(p: PreparedWorkflow): void {
    const old = this.map.get(p.key);
    if (old) {
      this.map.delete(p.key);
      this.weight -= weightOf(old.p);
    }
    this.map.set(p.key, { p, used: false });
    this.weight += weightOf(p);
    // Keep at least the newest entry, however large. A marked entry at the head goes to the back
    // unmarked (its second chance); after one round every mark is cleared, so this ends.
    while (this.weight > this.maxNodes && this.map.size > 1) {
      const [key, slot] = this.map.entries().next().value as [string, { p: PreparedWorkflow; used: boolean }];
      this.map.delete(key);
      if (slot.used || key === p.key) {
        slot.used = false;
        this.map.set(key, slot);
        continue;
      }
      this.weight -= weightOf(slot.p);
    }
  }

  get size(): number {
    return this.map.size;
  }
}

const weightOf = (p: PreparedWorkflow): number => Math.max(1, p.compiled.nodes.length);
