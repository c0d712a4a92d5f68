/** Small builders for compiler tests. */
import { type CompileResult, compile, type ValidationError } from '../src/index.ts';

export type N = Record<string, unknown> & { id: string; type: string };

export const t = (id: string, expression = '1', extra: Record<string, unknown> = {}): N => ({
  id,
  type: 'transform',
  expression,
  ...extra,
});

export function wf(
  nodes: unknown[],
  edges: [string, string][] | Record<string, unknown>[] = [],
  extra: Record<string, unknown> = {},
) {
  const es = edges.map((e) => (Array.isArray(e) ? { from: e[0], to: e[1] } : e));
  return { name: 'test', nodes, edges: es, ...extra };
}

export function mustCompile(def: unknown) {
  const r = compile(def);
  if (!r.ok) throw new Error(`expected a valid workflow, got ${JSON.stringify(r.errors, null, 2)}`);
  return r.compiled;
}

export function codes(r: CompileResult): string[] {
  return r.errors.map((e: ValidationError) => e.code);
}

export const ids = (c: { nodes: readonly { id: string }[] }, xs: readonly number[]) => xs.map((i) => c.nodes[i]?.id);
