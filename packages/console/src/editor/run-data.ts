/**
 * Data-aware editing: the outputs of one run of the workflow (the newest, or one the user
 * pinned), per node, and what the builder derives from them — binding suggestions that follow
 * the real shape of each output (`$search.hotels[0].name`) and a live preview of any binding or
 * expression against that data.
 *
 * Previews evaluate in the browser with the core's own binding resolver and JSONata evaluator
 * (the same code and jsonata version as the engine), over the user's own data and expressions:
 * nothing is sent to the server, and secrets are never in scope (a `$secrets` reference
 * previews as null). Scope is what the engine would give the node: `$context` and the outputs
 * of its ancestors only.
 */
import { compileExpression, type RunRecord, resolveBindings } from '@trellis/core';
import type { EditorDoc } from './doc.ts';
import { ancestorsOf } from './suggestions.ts';

/** One run's data as the builder keeps it. */
export interface RunData {
  runId: string;
  /** The run's input (`$context`). */
  input: unknown;
  /** Output by node id, for nodes that produced one (succeeded, or failed with onError continue). */
  outputs: Record<string, unknown>;
  statuses: Record<string, string>;
  createdAt?: string;
  /** Node ids whose output comes from a test run rather than from `runId`. */
  tested?: string[];
  /** True when there was no run and `runId` is a test run's (not a run of the workflow's history). */
  scratch?: boolean;
}

export function runDataFromRecord(rec: Pick<RunRecord, 'id' | 'input' | 'nodes' | 'createdAt'>): RunData {
  const outputs: Record<string, unknown> = {};
  const statuses: Record<string, string> = {};
  for (const [id, n] of Object.entries(rec.nodes)) {
    statuses[id] = n.status;
    if (n.status === 'succeeded' || (n.status === 'failed' && n.output !== undefined && n.output !== null))
      outputs[id] = n.output;
  }
  return { runId: rec.id, input: rec.input, outputs, statuses, createdAt: rec.createdAt };
}

/**
 * Lays the nodes a test run executed (not those it reused) over `data`, so previews downstream
 * of a tested node use its new output.
 */
export function withTestResult(data: RunData | undefined, test: Pick<RunRecord, 'id' | 'input' | 'nodes'>): RunData {
  const base: RunData = data ?? { runId: test.id, input: test.input, outputs: {}, statuses: {}, scratch: true };
  const outputs = { ...base.outputs };
  const statuses = { ...base.statuses };
  const tested = new Set(base.tested ?? []);
  for (const [id, n] of Object.entries(test.nodes)) {
    if (n.reusedFrom !== undefined || n.status === 'pending') continue;
    statuses[id] = n.status;
    tested.add(id);
    if (n.status === 'succeeded') outputs[id] = n.output;
    else delete outputs[id];
  }
  return { ...base, outputs, statuses, tested: [...tested] };
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * The reference paths into `value`, breadth first (`$n`, `$n.hotels`, `$n.hotels[0]`,
 * `$n.hotels[0].name`, …). Arrays contribute their first item; at most `maxPaths` paths,
 * `maxDepth` steps deep. Keys that are not plain names use `["key"]`.
 */
export function valuePaths(root: string, value: unknown, maxDepth = 4, maxPaths = 40): string[] {
  const out: string[] = [];
  let level: { path: string; value: unknown }[] = [{ path: root, value }];
  for (let depth = 0; depth <= maxDepth && level.length > 0; depth++) {
    const next: { path: string; value: unknown }[] = [];
    for (const item of level) {
      if (out.length >= maxPaths) return out;
      out.push(item.path);
      const v = item.value;
      if (Array.isArray(v)) {
        if (v.length > 0) next.push({ path: `${item.path}[0]`, value: v[0] });
      } else if (v !== null && typeof v === 'object') {
        for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
          const step = IDENT.test(k) ? `.${k}` : k.includes('"') ? undefined : `["${k}"]`;
          if (step !== undefined) next.push({ path: `${item.path}${step}`, value: child });
        }
      }
    }
    level = next;
  }
  return out;
}

/**
 * Suggestions from the data for a node's bindings: paths into `$context` and into the outputs
 * of the node's ancestors (never another node: that would be BINDING_NOT_UPSTREAM).
 */
export function dataSuggestions(doc: EditorDoc, nodeId: string, data: RunData | undefined, includeSelf = false): string[] {
  if (!data) return [];
  const anc = ancestorsOf(nodeId, doc.edges);
  if (includeSelf) anc.add(nodeId);
  const out = valuePaths('$context', data.input, 3, 20);
  for (const n of doc.nodes) if (anc.has(n.id) && n.id in data.outputs) out.push(...valuePaths(`$${n.id}`, data.outputs[n.id]));
  return out;
}

/** The scope the engine would give `nodeId`: `context` and its ancestors' outputs (null when absent). */
export function scopeFor(doc: EditorDoc, nodeId: string, data: RunData, includeSelf = false): Record<string, unknown> {
  const scope: Record<string, unknown> = { context: data.input ?? {} };
  const anc = ancestorsOf(nodeId, doc.edges);
  if (includeSelf) anc.add(nodeId);
  for (const id of anc) scope[id] = id in data.outputs ? data.outputs[id] : null;
  return scope;
}

export type Preview = { ok: true; value: unknown } | { ok: false; message: string };

/** A binding (`$node.path`, `{{ expr }}`, text with templates, or a literal) resolved over `scope`. */
export async function previewBinding(value: unknown, scope: Record<string, unknown>): Promise<Preview> {
  try {
    return { ok: true, value: await resolveBindings(value, scope) };
  } catch (err) {
    return { ok: false, message: errorText(err) };
  }
}

/** A JSONata expression (a condition, transform or edge condition) evaluated over `scope`. */
export async function previewExpression(source: string, scope: Record<string, unknown>): Promise<Preview> {
  if (source.trim() === '') return { ok: true, value: undefined };
  try {
    const v = await compileExpression(source).evaluate(scope);
    return { ok: true, value: v };
  } catch (err) {
    return { ok: false, message: errorText(err) };
  }
}

/** A value as one short line: JSON, cut to `max` characters. */
export function previewText(value: unknown, max = 160): string {
  if (value === undefined) return '(nothing)';
  let s: string;
  try {
    s = JSON.stringify(value) ?? String(value);
  } catch {
    s = String(value);
  }
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
