/**
 * The MCP tools a principal sees: one per workflow they may run, named after the workflow (made
 * MCP-safe: letters, digits, `_` and `-`, at most 64 characters; a clash gets a suffix from the
 * workflow id), described by its description, taking its `inputSchema` — plus the run lifecycle
 * tools.
 */
import { runnableWorkflows } from '@trellis/store';
import type { ServerContext } from '../http/context.ts';

export interface WorkflowTool {
  name: string;
  workflowId: string;
  version: number;
  title: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

/** Names of the built-in lifecycle tools; a workflow named like one gets a suffix. */
export const LIFECYCLE_TOOLS = ['trellis_run_status', 'trellis_await_run', 'trellis_cancel_run', 'trellis_list_runs'] as const;

/** A workflow name made MCP-safe. */
export function mcpToolName(name: string): string {
  const safe = name
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9_-]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 64);
  return safe === '' ? 'workflow' : safe;
}

function objectSchema(def: unknown): Record<string, unknown> {
  const s = (def as { inputSchema?: unknown } | null)?.inputSchema;
  if (s && typeof s === 'object' && !Array.isArray(s) && (s as { type?: unknown }).type === 'object')
    return s as Record<string, unknown>;
  // MCP tools take an object; a workflow without (or with a non-object) schema takes any object.
  return { type: 'object', additionalProperties: true };
}

export async function workflowTools(ctx: ServerContext, principal: { name: string; isAdmin: boolean }): Promise<WorkflowTool[]> {
  const workflows = await runnableWorkflows(ctx.db, principal);
  const taken = new Set<string>(LIFECYCLE_TOOLS);
  return workflows.map((w) => {
    let name = mcpToolName(w.name);
    if (taken.has(name)) name = `${name.slice(0, 52)}_${w.id.slice(-11).replace(/[^A-Za-z0-9_-]/g, '')}`;
    taken.add(name);
    return {
      name,
      workflowId: w.id,
      version: w.latestVersion,
      title: w.name,
      description: w.description ?? `Runs the Trellis workflow "${w.name}" and returns its output.`,
      inputSchema: objectSchema(w.definition),
    };
  });
}
