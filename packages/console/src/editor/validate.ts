/**
 * Validation while editing, with the core's own compiler: the same code the server runs, so
 * what the builder accepts the server accepts. Problems are pinned to the nodes and edges they
 * concern, from their `nodes` list and their JSON pointer (`/nodes/3/…`, `/edges/1/…`).
 */
import { compile, tryCompileExpression, type ValidationError } from '@trellis/core';
import { definitionFromDoc } from './convert.ts';
import type { EditorDoc } from './doc.ts';

export interface PinnedProblems {
  errors: ValidationError[];
  warnings: ValidationError[];
  byNode: Map<string, ValidationError[]>;
  byEdge: Map<number, ValidationError[]>;
  /** Problems that concern the workflow as a whole (name, settings, output…). */
  general: ValidationError[];
}

export function validateDoc(doc: EditorDoc): PinnedProblems {
  const result = compile(definitionFromDoc(doc));
  return pin(doc, result.errors, result.warnings);
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
    // A problem shows on what its pointer names and on every node it lists (a cycle's nodes).
    let pinned = false;
    let pathNode: string | undefined;
    if (m?.[1] === 'edges') {
      add(byEdge, Number(m[2]), e);
      pinned = true;
    } else if (m?.[1] === 'nodes') {
      pathNode = doc.nodes[Number(m[2])]?.id;
      if (pathNode !== undefined) {
        add(byNode, pathNode, e);
        pinned = true;
      }
    }
    for (const id of e.nodes ?? []) {
      if (id === pathNode) continue;
      add(byNode, id, e);
      pinned = true;
    }
    if (!pinned) general.push(e);
  }
  return { errors, warnings, byNode, byEdge, general };
}

/** Checks a JSONata expression's syntax (edge conditions, condition/transform nodes). */
export function expressionSyntaxError(source: string): string | undefined {
  if (source.trim() === '') return undefined;
  const r = tryCompileExpression(source);
  if (r.ok) return undefined;
  return r.error.position === undefined ? r.error.message : `${r.error.message} (at character ${r.error.position})`;
}
