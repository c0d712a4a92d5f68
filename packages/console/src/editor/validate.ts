/**
 * Validation while editing, with the core's own compiler: the same code the server runs, so
 * what the builder accepts the server accepts. Problems are pinned to the nodes and edges they
 * concern, from their `nodes` list and their JSON pointer (`/nodes/3/…`, `/edges/1/…`).
 */

import type { ValidationError } from '@trellis/core';
import * as core from '@trellis/core';
import { definitionFromDoc } from './convert.ts';
import type { EditorDoc } from './doc.ts';

type CompileFn = (definition: unknown) => { ok: boolean; errors: ValidationError[]; warnings?: ValidationError[] };
type TryExpressionFn = (source: string) => { ok: true } | { ok: false; error: { message: string; position?: number } };

/**
 * The core's compiler and expression parser, looked up at run time: both are exported by
 * @trellis/core (SPEC §2); the lookup keeps the console building while either is absent.
 */
const coreApi = core as unknown as { compile?: CompileFn; tryCompileExpression?: TryExpressionFn };

export interface PinnedProblems {
  errors: ValidationError[];
  warnings: ValidationError[];
  byNode: Map<string, ValidationError[]>;
  byEdge: Map<number, ValidationError[]>;
  /** Problems that concern the workflow as a whole (name, settings, output…). */
  general: ValidationError[];
}

export function validateDoc(doc: EditorDoc, compile: CompileFn | undefined = coreApi.compile): PinnedProblems {
  const definition = definitionFromDoc(doc);
  const result = compile ? compile(definition) : shapeOnly(definition);
  return pin(doc, result.errors, result.warnings ?? []);
}

/** Fallback when the core has no compiler: the definition schema's shape check. */
function shapeOnly(definition: unknown): ReturnType<CompileFn> {
  const r = core.workflowDefinitionSchema.safeParse(definition);
  if (r.success) return { ok: true, errors: [] };
  return {
    ok: false,
    errors: r.error.issues.map((i) => ({ code: 'SCHEMA', message: i.message, path: `/${i.path.map(String).join('/')}` })),
  };
}

export function pin(doc: EditorDoc, errors: ValidationError[], warnings: ValidationError[]): PinnedProblems {
  const byNode = new Map<string, ValidationError[]>();
  const byEdge = new Map<number, ValidationError[]>();
  const general: ValidationError[] = [];
  const add = <K>(m: Map<K, ValidationError[]>, k: K, e: ValidationError) => {
    const list = m.get(k);
    if (list) list.push(e);
    else m.set(k, [e]);
  };
  for (const e of errors) {
    const m = /^\/(nodes|edges)\/(\d+)(?:\/|$)/.exec(e.path ?? '');
    let pinned = false;
    if (m?.[1] === 'edges') {
      add(byEdge, Number(m[2]), e);
      pinned = true;
    } else if (m?.[1] === 'nodes') {
      const node = doc.nodes[Number(m[2])];
      if (node) {
        add(byNode, node.id, e);
        pinned = true;
      }
    }
    if (!pinned && e.nodes?.length) {
      for (const id of e.nodes) add(byNode, id, e);
      pinned = true;
    }
    if (!pinned) general.push(e);
  }
  return { errors, warnings, byNode, byEdge, general };
}

/** Checks a JSONata expression's syntax (edge conditions, condition/transform nodes). */
export function expressionSyntaxError(source: string): string | undefined {
  if (source.trim() === '') return undefined;
  const parse = coreApi.tryCompileExpression;
  if (!parse) return undefined;
  const r = parse(source);
  if (r.ok) return undefined;
  return r.error.position === undefined ? r.error.message : `${r.error.message} (at character ${r.error.position})`;
}
