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
 */
import type { EdgeDefinition, NodeDefinition } from '../definition.ts';
import { classifyBindingString, MAX_BINDING_DEPTH } from '../expressions/bindings.ts';
import { CONTEXT_VARIABLE } from '../expressions/builtins.ts';
import { tryCompileExpression } from '../expressions/expression.ts';
import type { Graph } from './graph.ts';
import { pointer, shortName } from './pointer.ts';
import type { Problems } from './problems.ts';
import type { Reachability } from './reachability.ts';

/** Who reads a variable: a node, an edge's condition, or the workflow's output. */
type User = { kind: 'node'; node: number } | { kind: 'edge'; from: number; to: number } | { kind: 'output' };

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
  const ids = (i: number) => shortName(nodeIds[i] ?? '?');
  const references: string[][] = nodes.map(() => []);
  let refSet = new Set<string>();

  const check = (variable: string, user: User, at: string): void => {
    if (variable === CONTEXT_VARIABLE) return;
    const target = g.indexById.get(variable);
    const userNodes = user.kind === 'node' ? [ids(user.node)] : user.kind === 'edge' ? [ids(user.from), ids(user.to)] : [];
    if (target === undefined) {
      p.error(
        'UNKNOWN_BINDING_REFERENCE',
        `$${shortName(variable)} names no node; reference a node id or $context (to write a literal "$…" text, use {{ "$…" }})`,
        at,
        userNodes,
      );
      return;
    }
    if (user.kind === 'output') return;
    if (user.kind === 'node') {
      refSet.add(variable);
      const u = user.node;
      if (target === u) {
        p.error(
          'BINDING_NOT_UPSTREAM',
          `$${variable} is ${variable}'s own output, which does not exist while it runs; reference an upstream node`,
          at,
          [variable],
        );
      } else if (reach && !reach.isAncestor(target, u)) {
        p.error(
          'BINDING_NOT_UPSTREAM',
          `$${variable} is not upstream of ${ids(u)}; add an edge ${variable} → ${ids(u)} or reference an upstream node`,
          at,
          [ids(u), variable],
        );
      }
      return;
    }
    if (target !== user.from && reach && !reach.isAncestor(target, user.from)) {
      p.error(
        'BINDING_NOT_UPSTREAM',
        `$${variable} is not upstream of the edge ${ids(user.from)} → ${ids(user.to)}; an edge condition may read its source ${ids(user.from)} or the source's ancestors`,
        at,
        [ids(user.from), ids(user.to), variable],
      );
    }
  };

  const expression = (src: string, user: User, at: string): void => {
    const r = tryCompileExpression(src);
    if (!r.ok) {
      p.error('EXPRESSION_SYNTAX', `JSONata does not parse: ${r.error.message}`, at, userLabel(user, ids));
      return;
    }
    for (const v of r.expression.variables) check(v, user, at);
  };

  /** A string in bindings (`reference` allowed) or a template field (`message`, `prompt`). */
  const bindingString = (s: string, user: User, at: string, templateOnly: boolean): void => {
    const c = classifyBindingString(s);
    if (c.kind === 'literal') return;
    if (c.kind === 'reference') {
      if (!templateOnly) check(c.ref.variable, user, at);
      return;
    }
    if (c.kind === 'invalid') {
      p.error('EXPRESSION_SYNTAX', c.message, at, userLabel(user, ids));
      return;
    }
    for (const part of c.parts) if (part.kind === 'expr') expression(part.source, user, at);
  };

  /** Walks a bindings value without recursion; nesting beyond MAX_BINDING_DEPTH is an error. */
  const bindings = (value: unknown, user: User, at: string): void => {
    const stack: { v: unknown; at: string; depth: number }[] = [{ v: value, at, depth: 0 }];
    while (stack.length > 0) {
      const { v, at: here, depth } = stack.pop() as { v: unknown; at: string; depth: number };
      if (typeof v === 'string') {
        bindingString(v, user, here, false);
        continue;
      }
      if (v === null || typeof v !== 'object') continue;
      if (depth >= MAX_BINDING_DEPTH) {
        p.error(
          'SCHEMA',
          `bindings are nested deeper than ${MAX_BINDING_DEPTH} levels; flatten them`,
          here,
          userLabel(user, ids),
        );
        continue;
      }
      if (Array.isArray(v)) {
        for (let k = v.length - 1; k >= 0; k--) stack.push({ v: v[k], at: `${here}/${k}`, depth: depth + 1 });
      } else {
        const keys = Object.keys(v);
        for (let k = keys.length - 1; k >= 0; k--) {
          const key = keys[k] as string;
          stack.push({ v: (v as Record<string, unknown>)[key], at: here + pointer(key), depth: depth + 1 });
        }
      }
    }
  };

  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i];
    if (!node || !g.member[i]) continue;
    refSet = new Set();
    const user: User = { kind: 'node', node: i };
    if (node.input !== undefined) bindings(node.input, user, pointer('nodes', i, 'input'));
    switch (node.type) {
      case 'agent_call':
        if (node.message !== undefined) bindingString(node.message, user, pointer('nodes', i, 'message'), true);
        break;
      case 'human_gate':
        bindingString(node.prompt, user, pointer('nodes', i, 'prompt'), true);
        break;
      case 'condition':
      case 'transform':
        expression(node.expression, user, pointer('nodes', i, 'expression'));
        break;
      case 'tool_call':
      case 'parallel':
      case 'join':
        break;
    }
    references[i] = [...refSet];
  }

  for (let j = 0; j < edges.length; j++) {
    const e = edges[j];
    if (e?.condition === undefined) continue;
    const from = g.indexById.get(e.from);
    const to = g.indexById.get(e.to);
    if (from === undefined || to === undefined) continue;
    expression(e.condition, { kind: 'edge', from, to }, pointer('edges', j, 'condition'));
  }

  if (output !== undefined) bindings(output, { kind: 'output' }, pointer('output'));
  return { references };
}

function userLabel(user: User, ids: (i: number) => string): string[] {
  if (user.kind === 'node') return [ids(user.node)];
  if (user.kind === 'edge') return [ids(user.from), ids(user.to)];
  return [];
}
