/**
 * Validation while editing, with the core's own compiler: the same code the server runs, so
 * what the builder accepts the server accepts. Problems are pinned to the nodes and edges they
 * concern, from their `nodes` list and their JSON pointer (`/nodes/3/…`, `/edges/1/…`).
 */
import { bareScopeNames, compile, suggestForBareName, tryCompileExpression, type ValidationError } from '@trellis/core';
import { definitionFromDoc } from './convert.ts';
import type { EditorDoc } from './doc.ts';

export interface PinnedProblems {
  errors: ValidationError[];
  warnings: ValidationError[];
  byNode: Map<string, ValidationError[]>;
  byEdge: Map<number, ValidationError[]>;
  /** Problems that concern the workflow as a whole (name, settings, output…). */
  general: ValidationError[];
  /** Warnings pinned the same way (the workflow is valid; shown amber). */
  warnByNode: Map<string, ValidationError[]>;
  warnByEdge: Map<number, ValidationError[]>;
}

/** Said instead of the schema's "Too small: expected array to have >=1 items" for a new workflow. */
export const EMPTY_WORKFLOW_MESSAGE = 'the workflow has no nodes yet: add one from the palette (drag it, or press it)';

export function validateDoc(doc: EditorDoc): PinnedProblems {
  const result = compile(definitionFromDoc(doc));
  let errors = result.errors;
  if (doc.nodes.length === 0) {
    errors = errors.filter((e) => !(e.code === 'SCHEMA' && e.path === '/nodes'));
    errors.unshift({ code: 'SCHEMA', message: EMPTY_WORKFLOW_MESSAGE, path: '/nodes' });
  }
  return pin(doc, errors, result.warnings);
}

export function pin(doc: EditorDoc, errors: ValidationError[], warnings: ValidationError[]): PinnedProblems {
  const e = pinAll(doc, errors, true);
  const w = pinAll(doc, warnings, false);
  return { errors, warnings, byNode: e.byNode, byEdge: e.byEdge, general: e.general, warnByNode: w.byNode, warnByEdge: w.byEdge };
}

function pinAll(doc: EditorDoc, list: ValidationError[], edgeNodesToo: boolean) {
  const byNode = new Map<string, ValidationError[]>();
  const byEdge = new Map<number, ValidationError[]>();
  const general: ValidationError[] = [];
  const add = <K>(m: Map<K, ValidationError[]>, k: K, e: ValidationError) => {
    const l = m.get(k);
    if (l) l.push(e);
    else m.set(k, [e]);
  };
  for (const e of list) {
    const m = /^\/(nodes|edges)\/(\d+)(?:\/|$)/.exec(e.path ?? '');
    // A problem shows on what its pointer names and on every node it lists (a cycle's nodes);
    // a warning pinned to an edge stays on the edge.
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
    if (m?.[1] !== 'edges' || edgeNodesToo) {
      for (const id of e.nodes ?? []) {
        if (id === pathNode) continue;
        add(byNode, id, e);
        pinned = true;
      }
    }
    if (!pinned) general.push(e);
  }
  return { byNode, byEdge, general };
}

/** A JSONata syntax error: the message once, and where (a character offset into the source). */
export interface SyntaxProblem {
  message: string;
  position?: number;
}

/** Checks a JSONata expression's syntax (edge conditions, condition/transform nodes). */
export function expressionSyntaxProblem(source: string): SyntaxProblem | undefined {
  if (source.trim() === '') return undefined;
  const r = tryCompileExpression(source);
  if (r.ok) return undefined;
  // The core's message already ends with "(at character N)": say it once, as `position`.
  const message = r.error.message.replace(/\s*\(at character \d+\)\s*$/, '');
  return r.error.position === undefined ? { message } : { message, position: r.error.position };
}

/** The syntax error as one line: "message (at character N)", the position said once. */
export function expressionSyntaxError(source: string): string | undefined {
  const p = expressionSyntaxProblem(source);
  if (!p) return undefined;
  return p.position === undefined ? p.message : `${p.message} (at character ${p.position})`;
}

/** A bare name the expression reads that names nothing (`tru`), with what was probably meant. */
export interface UnknownName {
  name: string;
  start: number;
  suggestion?: string;
}

/** Bare names in an expression that are neither `context` nor a node id of the document. */
export function unknownNames(source: string, doc: EditorDoc): UnknownName[] {
  if (source.trim() === '') return [];
  const known = ['context', 'item', 'index', ...doc.nodes.map((n) => n.id)];
  const set = new Set(known);
  return bareScopeNames(source)
    .filter((b) => !set.has(b.name))
    .map((b) => {
      const suggestion = suggestForBareName(b.name, known);
      return suggestion ? { ...b, suggestion } : b;
    });
}
