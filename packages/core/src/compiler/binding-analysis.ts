/**
 * Third pass: bindings, templates and expressions. Every string of a node's `input`, its
 * `message`/`prompt` templates, its `expression`, every edge condition and the workflow's
 * `output` is parsed (JSONata parses are cached by source), and each variable it reads must be
 * `$context` or a node upstream of its user:
 *
 * - a node's bindings and expression: an ancestor of the node;
 * - an edge condition: the edge's source or one of its ancestors;
 * - the workflow's `output`: any node (a skipped node yields null).
 *
 * Upstream checks need an acyclic graph; with a cycle only existence is checked.
 *
 * Performance: this pass touches every binding string, so it allocates as little as it can:
 * no closure per node, plain references checked without building their path, and a JSON
 * pointer is only built when a problem is reported.
 */
import type { EdgeDefinition, NodeDefinition } from '../definition.ts';
import { classifyBindingString, MAX_BINDING_DEPTH } from '../expressions/bindings.ts';
import { CONTEXT_VARIABLE, INDEX_VARIABLE, ITEM_VARIABLE } from '../expressions/builtins.ts';
import { tryCompileExpression } from '../expressions/expression.ts';
import { referenceVariable } from '../expressions/path-reference.ts';
import { SECRETS_VARIABLE } from '../expressions/secrets.ts';
import type { Graph } from './graph.ts';
import { pointer, shortName } from './pointer.ts';
import type { Problems } from './problems.ts';
import type { Reachability } from './reachability.ts';
import { checkSecretReference, SECRETS_ONLY_MESSAGE } from './secret-references.ts';

/** Nodes a single upstream check may visit before it is deferred to the batched pass. */
const LOCAL_SEARCH_BUDGET = 16;

/** Who reads: a node (`from` = node), an edge's condition (`from` → `to`), or the workflow's output. */
enum UserKind {
  Node = 0,
  Edge = 1,
  Output = 2,
}

export interface BindingAnalysis {
  /** Per node index: the node ids it references (deduplicated, `context` excluded). */
  references: string[][];
}

export function analyzeBindings(
  nodeIds: readonly (string | undefined)[],
  nodes: readonly (NodeDefinition | undefined)[],
  edges: readonly (EdgeDefinition | undefined)[],
  output: unknown,
  g: Graph,
  reach: Reachability | undefined,
  p: Problems,
): BindingAnalysis {
  const a = new Analyzer(nodeIds, g, reach, p);
  const references: string[][] = new Array(nodes.length);
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i];
    references[i] = [];
    if (!node || !g.member[i]) continue;
    a.begin(UserKind.Node, i, i);
    a.node = node;
    if (node.input !== undefined) a.bindings(node.input, 'input');
    switch (node.type) {
      case 'agent_call':
        if (node.message !== undefined) a.template(node.message, 'message');
        break;
      case 'human_gate':
        a.template(node.prompt, 'prompt');
        break;
      case 'condition':
      case 'transform':
        a.expression(node.expression, 'expression');
        break;
      case 'map': {
        a.bindings(node.items, 'items');
        // Inside `do`, $item and $index are in scope besides the usual variables.
        a.inItem = true;
        const body = node.do;
        a.segs.push('do');
        if (body.input !== undefined) a.bindings(body.input, 'input');
        if (body.type === 'agent_call' && body.message !== undefined) a.template(body.message, 'message');
        else if (body.type === 'human_gate') a.template(body.prompt, 'prompt');
        else if (body.type === 'transform') a.expression(body.expression, 'expression');
        a.segs.pop();
        a.inItem = false;
        break;
      }
      case 'tool_call':
      case 'parallel':
      case 'join':
      case 'workflow':
        break;
    }
    references[i] = a.refs;
  }
  for (let j = 0; j < edges.length; j++) {
    const e = edges[j];
    if (e?.condition === undefined) continue;
    const from = g.indexById.get(e.from);
    const to = g.indexById.get(e.to);
    if (from === undefined || to === undefined) continue;
    a.begin(UserKind.Edge, from, to, j);
    a.expression(e.condition, 'condition');
  }
  if (output !== undefined) {
    a.begin(UserKind.Output, -1, -1);
    a.bindings(output, undefined);
  }
  a.finish();
  return { references };
}

class Analyzer {
  kind: UserKind = UserKind.Node;
  from = -1;
  to = -1;
  edge = -1;
  refs: string[] = [];
  /** True while reading a map's `do` body, where `$item` and `$index` are in scope. */
  inItem = false;
  /** Upstream checks a local search could not settle; answered together by `finish`. */
  readonly deferred: { target: number; u: number; variable: string; at: string; kind: UserKind; to: number }[] = [];
  /** Path of the value being looked at, below the user's own pointer. */
  readonly segs: (string | number)[] = [];

  constructor(
    readonly nodeIds: readonly (string | undefined)[],
    readonly g: Graph,
    readonly reach: Reachability | undefined,
    readonly p: Problems,
  ) {}

  /** The node being analysed (UserKind.Node), for the secrets rule. */
  node: NodeDefinition | undefined;

  begin(kind: UserKind, from: number, to: number, edge = -1): void {
    this.node = undefined;
    this.kind = kind;
    this.from = from;
    this.to = to;
    this.edge = edge;
    this.refs = [];
    this.segs.length = 0;
  }

  id(i: number): string {
    return shortName(this.nodeIds[i] ?? '?');
  }

  at(): string {
    if (this.kind === UserKind.Node) return pointer('nodes', this.from, ...this.segs);
    if (this.kind === UserKind.Edge) return pointer('edges', this.edge, ...this.segs);
    return pointer('output', ...this.segs);
  }

  label(): string[] {
    if (this.kind === UserKind.Node) return [this.id(this.from)];
    if (this.kind === UserKind.Edge) return [this.id(this.from), this.id(this.to)];
    return [];
  }

  /** Checks one variable read by the current user. */
  check(variable: string): void {
    if (variable === CONTEXT_VARIABLE) return;
    if (variable === SECRETS_VARIABLE) {
      this.p.error('SECRET_NOT_ALLOWED_HERE', SECRETS_ONLY_MESSAGE, this.at(), this.label());
      return;
    }
    if (variable === ITEM_VARIABLE || variable === INDEX_VARIABLE) {
      if (this.inItem) return;
      this.p.error(
        'UNKNOWN_BINDING_REFERENCE',
        `$${variable} is only in scope inside a map node's "do" body (the current item and its index)`,
        this.at(),
        this.label(),
      );
      return;
    }
    const target = this.g.indexById.get(variable);
    if (target === undefined) {
      this.p.error(
        'UNKNOWN_BINDING_REFERENCE',
        `$${shortName(variable)} names no node; reference a node id or $context (to write a literal "$…" text, use {{ "$…" }})`,
        this.at(),
        this.label(),
      );
      return;
    }
    if (this.kind === UserKind.Output) return;
    const u = this.from;
    if (this.kind === UserKind.Node) {
      if (!this.refs.includes(variable)) this.refs.push(variable);
      if (target === u) {
        this.p.error(
          'BINDING_NOT_UPSTREAM',
          `$${variable} is ${variable}'s own output, which does not exist while it runs; reference an upstream node`,
          this.at(),
          [variable],
        );
      } else if (this.reach) {
        this.upstream(target, u, variable);
      }
      return;
    }
    if (target !== u && this.reach) this.upstream(target, u, variable);
  }

  /**
   * Checks that `target` is an ancestor of `u` with a small local search; a query the search
   * cannot settle within its budget is deferred to one batched pass (see Reachability).
   */
  private upstream(target: number, u: number, variable: string): void {
    const r = (this.reach as Reachability).tryIsAncestor(target, u, LOCAL_SEARCH_BUDGET);
    if (r === 1) return;
    if (r === 0) {
      this.notUpstream(variable, this.at(), this.kind, u, this.to);
      return;
    }
    this.deferred.push({ target, u, variable, at: this.at(), kind: this.kind, to: this.to });
  }

  notUpstream(variable: string, at: string, kind: UserKind, u: number, to: number): void {
    if (kind === UserKind.Node) {
      const user = this.id(u);
      this.p.error(
        'BINDING_NOT_UPSTREAM',
        `$${variable} is not upstream of ${user}; add an edge ${variable} → ${user} or reference an upstream node`,
        at,
        [user, variable],
      );
      return;
    }
    const [src, dst] = [this.id(u), this.id(to)];
    this.p.error(
      'BINDING_NOT_UPSTREAM',
      `$${variable} is not upstream of the edge ${src} → ${dst}; an edge condition may read its source ${src} or the source's ancestors`,
      at,
      [src, dst, variable],
    );
  }

  /** Settles the deferred upstream checks in one batched pass. */
  finish(): void {
    if (this.deferred.length === 0 || !this.reach) return;
    const ok = this.reach.batch(
      this.deferred.map((q) => q.target),
      this.deferred.map((q) => q.u),
    );
    this.deferred.forEach((q, i) => {
      if (!ok[i]) this.notUpstream(q.variable, q.at, q.kind, q.u, q.to);
    });
  }

  /** A JSONata expression field (`expression`, an edge's `condition`). */
  expression(src: string, field: string | undefined): void {
    if (field !== undefined) this.segs.push(field);
    const r = tryCompileExpression(src);
    if (!r.ok) this.p.error('EXPRESSION_SYNTAX', `JSONata does not parse: ${r.error.message}`, this.at(), this.label());
    else for (const v of r.expression.variables) this.check(v);
    if (field !== undefined) this.segs.pop();
  }

  /** A template field (`message`, `prompt`): only its `{{ }}` parts are read. */
  template(s: string, field: string): void {
    this.segs.push(field);
    this.string(s, true);
    this.segs.pop();
  }

  /** A bindings value (`input`, `output`); recursion is bounded by MAX_BINDING_DEPTH. */
  bindings(value: unknown, field: string | undefined): void {
    if (field !== undefined) this.segs.push(field);
    this.visit(value, 0);
    if (field !== undefined) this.segs.pop();
  }

  private visit(v: unknown, depth: number): void {
    if (typeof v === 'string') {
      this.string(v, false);
      return;
    }
    if (v === null || typeof v !== 'object') return;
    if (depth >= MAX_BINDING_DEPTH) {
      this.p.error(
        'SCHEMA',
        `bindings are nested deeper than ${MAX_BINDING_DEPTH} levels; flatten them`,
        this.at(),
        this.label(),
      );
      return;
    }
    const segs = this.segs;
    if (Array.isArray(v)) {
      for (let k = 0; k < v.length; k++) {
        segs.push(k);
        this.visit(v[k], depth + 1);
        segs.pop();
      }
      return;
    }
    for (const key in v) {
      if (!Object.hasOwn(v, key)) continue;
      segs.push(key);
      this.visit((v as Record<string, unknown>)[key], depth + 1);
      segs.pop();
    }
  }

  private string(s: string, templateOnly: boolean): void {
    if (s.charCodeAt(0) === 36 /* $ */) {
      const variable = referenceVariable(s);
      if (variable !== undefined) {
        if (!templateOnly) this.check(variable);
        return;
      }
    }
    if (!s.includes('{{')) return;
    const c = classifyBindingString(s);
    if (c.kind === 'invalid') this.p.error('EXPRESSION_SYNTAX', c.message, this.at(), this.label());
    else if (c.kind === 'template') {
      for (const part of c.parts) {
        if (part.kind !== 'expr') continue;
        const secret = checkSecretReference(this.node, this.kind === UserKind.Node ? this.segs : undefined, s, part.source);
        if (secret === 'ok') continue;
        if (secret !== undefined) this.p.error('SECRET_NOT_ALLOWED_HERE', secret, this.at(), this.label());
        else this.expression(part.source, undefined);
      }
    }
  }
}
