/**
 * Save-time checks of `workflow` references (sub-workflows), across workflows: every referenced
 * workflow must exist and be runnable by the saving workflow's owner, the references must not
 * form a cycle, and nesting must stay within the depth cap. The compiler itself performs no I/O,
 * so the caller passes `lookup`, which reads the referenced workflow (by id or name, latest or a
 * pinned version) from wherever workflows live.
 */
import type { NodeDefinition, WorkflowDefinition } from '../definition.ts';
import { DEFAULT_MAX_WORKFLOW_DEPTH } from '../definition.ts';
import type { ValidationError } from '../errors.ts';
import { pointer, shortName } from './pointer.ts';

/** What `lookup` answers for one reference. */
export type WorkflowLookup =
  | { kind: 'found'; id: string; name: string; definition: unknown }
  | { kind: 'unknown' }
  /** It exists but the owner may not run it (no `runner` role). */
  | { kind: 'forbidden'; id: string; name: string };

export interface WorkflowRefCheckOptions {
  /** The saved workflow's id, when it already exists (an update): a reference to it is a cycle. */
  selfId?: string;
  /** Cap on nesting (default 10): a run's children are depth 1, theirs depth 2, … */
  maxDepth?: number;
  /** Resolves a reference; `version` undefined means the latest. */
  lookup(ref: string, version: number | undefined): Promise<WorkflowLookup>;
}

/** One `workflow` reference in a definition: where it is and what it names. */
export interface WorkflowReference {
  ref: string;
  version: number | undefined;
  /** JSON pointer to the `workflow` field. */
  path: string;
  nodeId: string;
}

/** Every `workflow` reference of a definition (nodes and map bodies). */
export function workflowReferences(definition: { nodes?: unknown }): WorkflowReference[] {
  const out: WorkflowReference[] = [];
  const nodes = Array.isArray(definition.nodes) ? (definition.nodes as NodeDefinition[]) : [];
  nodes.forEach((n, i) => {
    if (n === null || typeof n !== 'object') return;
    if (n.type === 'workflow' && typeof n.workflow === 'string') {
      out.push({ ref: n.workflow, version: n.version, path: pointer('nodes', i, 'workflow'), nodeId: n.id });
    } else if (
      n.type === 'map' &&
      n.do &&
      typeof n.do === 'object' &&
      n.do.type === 'workflow' &&
      typeof n.do.workflow === 'string'
    ) {
      out.push({ ref: n.do.workflow, version: n.do.version, path: pointer('nodes', i, 'do', 'workflow'), nodeId: n.id });
    }
  });
  return out;
}

/**
 * Checks the references of `definition`: UNKNOWN_WORKFLOW, WORKFLOW_FORBIDDEN, WORKFLOW_CYCLE,
 * WORKFLOW_DEPTH_EXCEEDED, each pointing at the reference in `definition` that leads to it.
 */
export async function checkWorkflowReferences(
  definition: WorkflowDefinition | { name?: unknown; nodes?: unknown },
  options: WorkflowRefCheckOptions,
): Promise<ValidationError[]> {
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_WORKFLOW_DEPTH;
  const errors: ValidationError[] = [];
  // Per referenced workflow (id@version): how deep its own nesting goes, or the cycle through it.
  const memo = new Map<string, Promise<Walk>>();
  const selfName = typeof definition.name === 'string' ? definition.name : undefined;
  const names = new Map<string, string>();

  type Walk = { depth: number; cycle: string[] | undefined };

  const walk = async (doc: unknown, stack: string[]): Promise<Walk> => {
    let depth = 0;
    for (const r of workflowReferences((doc ?? {}) as { nodes?: unknown })) {
      const found = await options.lookup(r.ref, r.version);
      if (found.kind !== 'found') continue; // reported only for the saved definition itself
      names.set(found.id, found.name);
      if (found.id === options.selfId || stack.includes(found.id)) return { depth: 0, cycle: [...stack, found.id] };
      if (stack.length > maxDepth + 1) return { depth: stack.length, cycle: undefined };
      const key = `${found.id}@${r.version ?? 'latest'}`;
      let p = memo.get(key);
      if (!p) {
        p = walk(found.definition, [...stack, found.id]);
        memo.set(key, p);
      }
      const sub = await p;
      if (sub.cycle) return sub;
      depth = Math.max(depth, sub.depth + 1);
    }
    return { depth, cycle: undefined };
  };

  for (const r of workflowReferences(definition)) {
    const found = await options.lookup(r.ref, r.version);
    const label = [r.nodeId];
    if (found.kind === 'unknown') {
      const self = r.ref === selfName || r.ref === options.selfId;
      errors.push({
        code: self ? 'WORKFLOW_CYCLE' : 'UNKNOWN_WORKFLOW',
        message: self
          ? `node ${shortName(r.nodeId)} runs this workflow itself ("${shortName(r.ref)}"); a workflow may not call itself`
          : `workflow "${shortName(r.ref)}"${r.version === undefined ? '' : ` version ${r.version}`} does not exist (or is not visible to you); name a saved workflow by id or name`,
        nodes: label,
        path: r.path,
      });
      continue;
    }
    if (found.kind === 'forbidden') {
      errors.push({
        code: 'WORKFLOW_FORBIDDEN',
        message: `the owner of this workflow needs the runner role on workflow "${shortName(found.name)}" to start it as a child run`,
        nodes: label,
        path: r.path,
      });
      continue;
    }
    names.set(found.id, found.name);
    if (found.id === options.selfId) {
      errors.push({
        code: 'WORKFLOW_CYCLE',
        message: `node ${shortName(r.nodeId)} runs this workflow itself; a workflow may not call itself`,
        nodes: label,
        path: r.path,
      });
      continue;
    }
    const key = `${found.id}@${r.version ?? 'latest'}`;
    let p = memo.get(key);
    if (!p) {
      p = walk(found.definition, [found.id]);
      memo.set(key, p);
    }
    const w = await p;
    if (w.cycle) {
      const chain = w.cycle.map((id) => (id === options.selfId ? (selfName ?? id) : (names.get(id) ?? id)));
      errors.push({
        code: 'WORKFLOW_CYCLE',
        message: `node ${shortName(r.nodeId)} starts a cycle of workflows: ${[selfName ?? 'this workflow', ...chain].map((n) => shortName(n)).join(' → ')}; a workflow may not call itself, directly or through others`,
        nodes: label,
        path: r.path,
      });
    } else if (w.depth + 1 > maxDepth) {
      errors.push({
        code: 'WORKFLOW_DEPTH_EXCEEDED',
        message: `node ${shortName(r.nodeId)} nests sub-workflows ${w.depth + 1} levels deep; the limit is ${maxDepth}`,
        nodes: label,
        path: r.path,
      });
    }
  }
  return errors;
}
