/**
 * Secret references: `{{ $secrets.NAME }}` inside a string. They are never evaluated as
 * expressions — no secret value ever enters the expression evaluator. Resolving bindings turns
 * each reference into the placeholder `[secret:NAME]` (what run records and events show); the
 * executor that sends the request puts the value in at the last moment, from the definition.
 *
 * Where references are allowed (checked when a definition is saved): in a `tool_call` of
 * `http.request`, the values of `input.headers` and the query part of `input.url`; and in the
 * `headers` of agent and tool-server registrations.
 */
import type { NodeDefinition, WorkflowDefinition } from '../definition.ts';
import { hasTemplate, splitTemplate } from './template.ts';

/** The scope variable secrets are read from. */
export const SECRETS_VARIABLE = 'secrets';

const REFERENCE = /^\$secrets\.([A-Za-z_][A-Za-z0-9_]*)$/;

/** The secret an expression source names, when it is exactly `$secrets.NAME`. */
export function secretReferenceName(source: string): string | undefined {
  return REFERENCE.exec(source.trim())?.[1];
}

/** What a value shows instead of a secret: `[secret:NAME]`. */
export function secretPlaceholder(name: string): string {
  return `[secret:${name}]`;
}

/** A string split into text and secret references; undefined when it references no secret. */
export type SecretTemplatePart =
  | { kind: 'text'; text: string }
  | { kind: 'secret'; name: string }
  | { kind: 'expr'; source: string };

export function splitSecretTemplate(s: string): SecretTemplatePart[] | undefined {
  if (!hasTemplate(s) || !s.includes('$secrets')) return undefined;
  const split = splitTemplate(s);
  if (!split.ok) return undefined;
  let any = false;
  const parts = split.parts.map((p): SecretTemplatePart => {
    if (p.kind === 'text') return p;
    const name = secretReferenceName(p.source);
    if (name === undefined) return { kind: 'expr', source: p.source };
    any = true;
    return { kind: 'secret', name };
  });
  return any ? parts : undefined;
}

/** Where a secret reference sits in a node, for the save-time rule. */
export type SecretLocation = { kind: 'header'; header: string } | { kind: 'url' };

/**
 * The allowed location `path` (segments below the node) names in `node`, or undefined when
 * secrets are not allowed there.
 */
export function secretLocation(node: NodeDefinition, path: readonly (string | number)[]): SecretLocation | undefined {
  // A node body nested under `do` (a `map` node's per-item body) follows the same rule.
  const body = (node as { do?: unknown }).do;
  if (path[0] === 'do' && body && typeof body === 'object') return secretLocation(body as NodeDefinition, path.slice(1));
  if (node.type !== 'tool_call' || node.tool !== 'http.request' || path[0] !== 'input') return undefined;
  if (path.length === 3 && path[1] === 'headers' && typeof path[2] === 'string') return { kind: 'header', header: path[2] };
  if (path.length === 2 && path[1] === 'url') return { kind: 'url' };
  return undefined;
}

/** True when, in a URL template, every secret reference sits in the query (after `?`, before `#`). */
export function secretsOnlyInQuery(parts: readonly SecretTemplatePart[]): boolean {
  let where: 'path' | 'query' | 'fragment' = 'path';
  for (const p of parts) {
    if (p.kind === 'secret') {
      if (where !== 'query') return false;
    } else if (p.kind === 'text') {
      for (const c of p.text) {
        if (c === '?' && where === 'path') where = 'query';
        else if (c === '#') where = 'fragment';
      }
    }
  }
  return true;
}

/** One reference of a definition: the secret's name and the JSON pointer of the string holding it. */
export interface SecretUse {
  name: string;
  nodeId: string;
  path: string;
}

/** The secrets a definition's `http.request` nodes reference in allowed places (for the save-time existence check). */
export function secretUses(definition: WorkflowDefinition): SecretUse[] {
  const uses: SecretUse[] = [];
  definition.nodes.forEach((outer, i) => {
    const body = (outer as { do?: unknown }).do;
    const nested = body && typeof body === 'object' ? (body as NodeDefinition) : undefined;
    const node = nested ?? outer;
    const base = nested ? `/nodes/${i}/do` : `/nodes/${i}`;
    if (node.type !== 'tool_call' || node.tool !== 'http.request') return;
    const input = node.input as Record<string, unknown> | undefined;
    if (!input || typeof input !== 'object') return;
    const add = (s: unknown, path: string) => {
      if (typeof s !== 'string') return;
      for (const p of splitSecretTemplate(s) ?? []) if (p.kind === 'secret') uses.push({ name: p.name, nodeId: outer.id, path });
    };
    add(input.url, `${base}/input/url`);
    const headers = input.headers;
    if (headers && typeof headers === 'object' && !Array.isArray(headers)) {
      for (const [k, v] of Object.entries(headers))
        add(v, `${base}/input/headers/${k.replaceAll('~', '~0').replaceAll('/', '~1')}`);
    }
  });
  return uses;
}
