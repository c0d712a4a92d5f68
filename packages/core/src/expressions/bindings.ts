/**
 * Bindings (SPEC §1): a node's `input`, the workflow's `output`, `message` and `prompt`
 * templates. A value is walked once and prepared into a tree whose leaves resolve fast:
 *
 * - a string that is exactly `$<name>` or `$<name>.<path>` → the referenced value, type kept,
 *   by a direct path walk (no JSONata);
 * - a string that is exactly `{{ expr }}` → the expression's value, type kept;
 * - a string with `{{ expr }}` parts among text → text, each value interpolated;
 * - anything else (numbers, `"$5"`, `"costs $5"`) → itself.
 *
 * Missing values: a reference or whole-string template whose value is absent (missing path,
 * variable not in scope, expression yielding nothing) resolves to `null`, so the key stays
 * present and JSON round-trips; a skipped node is `null` in the scope, so the same holds for it.
 * Interpolated into text, an absent value is the empty string and an object is its JSON.
 *
 * Literal parts of the definition are returned as they are (not copied): treat resolved
 * values as immutable.
 */
import { TrellisError } from '../errors.ts';
import { type EvaluationRequest, type ExpressionEvaluator, inProcessEvaluator } from './evaluator.ts';
import { compileExpression, type PreparedExpression } from './expression.ts';
import { type PathReference, parsePathReference, walkPath } from './path-reference.ts';
import { secretPlaceholder, secretReferenceName } from './secrets.ts';
import { hasTemplate, splitTemplate } from './template.ts';

/** Deepest nesting of objects/arrays accepted in bindings. */
export const MAX_BINDING_DEPTH = 64;

type Node =
  /** `d`: derived from the definition (not the literal itself), so a parent cannot reuse its literal. */
  | { k: 'lit'; v: unknown; d?: true }
  | { k: 'ref'; ref: PathReference }
  | { k: 'expr'; expr: PreparedExpression }
  | { k: 'text'; parts: (string | PreparedExpression)[] }
  | { k: 'arr'; items: Node[] }
  | { k: 'obj'; keys: string[]; values: Node[] };

export interface PreparedBindings {
  /** True when resolving needs no JSONata (only literals and plain references). */
  readonly direct: boolean;
  /**
   * Resolves against `scope`. References resolve here; every `{{ }}` expression of the value
   * goes to `evaluator` in one call (the runtime's sandbox: one message per node). Without an
   * evaluator, expressions run in process (trusted use only).
   */
  resolve(scope: Record<string, unknown>, evaluator?: ExpressionEvaluator): Promise<unknown>;
}

/** A binding string, classified. The compiler and `prepareBindings` share this. */
export type BindingString =
  | { kind: 'literal' }
  | { kind: 'reference'; ref: PathReference }
  | {
      kind: 'template';
      whole: boolean;
      parts: ({ kind: 'text'; text: string } | { kind: 'expr'; source: string; offset: number })[];
    }
  | { kind: 'invalid'; message: string };

export function classifyBindingString(s: string): BindingString {
  if (s.charCodeAt(0) === 36 /* $ */) {
    const ref = parsePathReference(s);
    if (ref) return { kind: 'reference', ref };
  }
  if (!hasTemplate(s)) return { kind: 'literal' };
  const split = splitTemplate(s);
  if (!split.ok) return { kind: 'invalid', message: split.message };
  const only = split.parts.length === 1 ? split.parts[0] : undefined;
  return { kind: 'template', whole: only?.kind === 'expr', parts: split.parts };
}

/**
 * Prepares a binding value once; `resolve` then runs per node attempt. Throws TrellisError
 * `EXPRESSION_SYNTAX` for a template that does not parse and `SCHEMA` for nesting deeper than
 * MAX_BINDING_DEPTH (the compiler reports both before a definition is ever run).
 */
export function prepareBindings(value: unknown): PreparedBindings {
  let direct = true;
  const build = (v: unknown, depth: number): Node => {
    if (typeof v === 'string') {
      const c = classifyBindingString(v);
      switch (c.kind) {
        case 'literal':
          return { k: 'lit', v };
        case 'reference':
          return { k: 'ref', ref: c.ref };
        case 'invalid':
          throw new TrellisError('EXPRESSION_SYNTAX', c.message, { category: 'user' });
        case 'template': {
          // `{{ $secrets.NAME }}` is never evaluated: it resolves to its placeholder (see secrets.ts).
          const parts = c.parts.map((p) => {
            const secret = p.kind === 'expr' ? secretReferenceName(p.source) : undefined;
            return secret === undefined ? p : { kind: 'text' as const, text: secretPlaceholder(secret) };
          });
          if (parts.every((p) => p.kind === 'text')) return { k: 'lit', v: parts.map((p) => p.text).join(''), d: true };
          direct = false;
          if (c.whole && parts[0]?.kind === 'expr') return { k: 'expr', expr: compileExpression(parts[0].source) };
          return { k: 'text', parts: parts.map((p) => (p.kind === 'text' ? p.text : compileExpression(p.source))) };
        }
      }
    }
    if (v === null || typeof v !== 'object') return { k: 'lit', v };
    if (depth >= MAX_BINDING_DEPTH) {
      throw new TrellisError('SCHEMA', `bindings are nested deeper than ${MAX_BINDING_DEPTH} levels`, { category: 'user' });
    }
    if (Array.isArray(v)) {
      const items = v.map((x) => build(x, depth + 1));
      return items.every((n) => n.k === 'lit' && !n.d) ? { k: 'lit', v } : { k: 'arr', items };
    }
    const keys = Object.keys(v);
    const values = keys.map((key) => build((v as Record<string, unknown>)[key], depth + 1));
    return values.every((n) => n.k === 'lit' && !n.d) ? { k: 'lit', v } : { k: 'obj', keys, values };
  };
  const root = build(value, 0);
  return {
    direct,
    resolve: direct
      ? (scope) => {
          try {
            return Promise.resolve(resolveDirect(root, scope));
          } catch (err) {
            return Promise.reject(err);
          }
        }
      : async (scope, evaluator = inProcessEvaluator) => {
          const requests: EvaluationRequest[] = [];
          collect(root, scope, requests);
          const values = await evaluator.evaluate(requests);
          return assemble(root, scope, values, { next: 0 });
        },
  };
}

/** Prepares and resolves in one go (no caching: prefer `prepareBindings` on hot paths). */
export function resolveBindings(
  value: unknown,
  scope: Record<string, unknown>,
  evaluator?: ExpressionEvaluator,
): Promise<unknown> {
  return prepareBindings(value).resolve(scope, evaluator);
}

/**
 * Renders a template (`message`, `prompt`) to text; a string without `{{` is returned as is.
 * Its expressions go to `evaluator` in one call (in process without one: trusted use only).
 */
export async function renderTemplate(
  template: string,
  scope: Record<string, unknown>,
  evaluator: ExpressionEvaluator = inProcessEvaluator,
): Promise<string> {
  const c = classifyBindingString(template);
  if (c.kind === 'literal' || c.kind === 'reference') return template;
  if (c.kind === 'invalid') throw new TrellisError('EXPRESSION_SYNTAX', c.message, { category: 'user' });
  const requests: EvaluationRequest[] = [];
  for (const p of c.parts) if (p.kind === 'expr') requests.push({ source: p.source, scope });
  const values = await evaluator.evaluate(requests);
  let out = '';
  let next = 0;
  for (const p of c.parts) out += p.kind === 'text' ? p.text : toText(values[next++]);
  return out;
}

function lookup(ref: PathReference, scope: Record<string, unknown>): unknown {
  if (!Object.hasOwn(scope, ref.variable)) return null;
  const v = walkPath(scope[ref.variable], ref.steps);
  return v === undefined ? null : v;
}

function resolveDirect(n: Node, scope: Record<string, unknown>): unknown {
  switch (n.k) {
    case 'lit':
      return n.v;
    case 'ref':
      return lookup(n.ref, scope);
    case 'arr':
      return n.items.map((x) => resolveDirect(x, scope));
    case 'obj': {
      const out: Record<string, unknown> = {};
      for (let i = 0; i < n.keys.length; i++) setKey(out, n.keys[i] as string, resolveDirect(n.values[i] as Node, scope));
      return out;
    }
    case 'expr':
    case 'text':
      throw new TrellisError('INTERNAL', 'a template reached the direct resolver');
  }
}

/** The expressions of a prepared value, in the order `assemble` consumes their values. */
function collect(n: Node, scope: Record<string, unknown>, into: EvaluationRequest[]): void {
  switch (n.k) {
    case 'lit':
    case 'ref':
      return;
    case 'expr':
      into.push({ source: n.expr.source, scope });
      return;
    case 'text':
      for (const p of n.parts) if (typeof p !== 'string') into.push({ source: p.source, scope });
      return;
    case 'arr':
      for (const x of n.items) collect(x, scope, into);
      return;
    case 'obj':
      for (const v of n.values) collect(v, scope, into);
      return;
  }
}

function assemble(n: Node, scope: Record<string, unknown>, values: unknown[], cursor: { next: number }): unknown {
  switch (n.k) {
    case 'lit':
      return n.v;
    case 'ref':
      return lookup(n.ref, scope);
    case 'expr': {
      const v = values[cursor.next++];
      return v === undefined ? null : v;
    }
    case 'text': {
      let out = '';
      for (const p of n.parts) out += typeof p === 'string' ? p : toText(values[cursor.next++]);
      return out;
    }
    case 'arr':
      return n.items.map((x) => assemble(x, scope, values, cursor));
    case 'obj': {
      const out: Record<string, unknown> = {};
      for (let i = 0; i < n.keys.length; i++)
        setKey(out, n.keys[i] as string, assemble(n.values[i] as Node, scope, values, cursor));
      return out;
    }
  }
}

function setKey(out: Record<string, unknown>, key: string, v: unknown): void {
  if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
  else out[key] = v;
}

/** How a value reads inside text: strings as they are, absent as empty, the rest as JSON. */
function toText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  return JSON.stringify(v) ?? '';
}
