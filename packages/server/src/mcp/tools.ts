/**
 * What the MCP tools do: start a workflow's run and follow it (progress notifications on node
 * transitions, cancellation when the client cancels), and the run lifecycle tools. Results:
 *
 * - succeeded → `structuredContent` is the run's output (an object; anything else is wrapped as
 *   `{ "output": … }`) plus a text rendering;
 * - failed or cancelled → an `isError` result carrying the run's error;
 * - waiting at a human gate → the gate's prompt and the console URL where a person decides it (a
 *   gate is never approved on the caller's behalf);
 * - still running when the wait ends → `{ runId, status }`: follow with `trellis_await_run`.
 */
import { isTerminalRunStatus, type RunEvent, type RunRecord, TrellisError } from '@trellis/core';
import { getRole, type Role, roleAtLeast } from '@trellis/store';
import type { ServerContext } from '../http/context.ts';
import { type LIFECYCLE_TOOLS, type WorkflowTool, workflowTools } from './catalog.ts';

export interface CallContext {
  ctx: ServerContext;
  principal: { name: string; isAdmin: boolean };
  /** Base of console links, e.g. http://127.0.0.1:8080. */
  consoleBase: string;
  waitMs: number;
  signal: AbortSignal;
  /** The caller's W3C traceparent (`_meta.traceparent`, else the HTTP header), normalised. */
  traceParent?: string;
  /** Sends a progress notification, when the client asked for progress. */
  progress?: (progress: number, total: number, message: string) => Promise<void>;
}

export interface ToolResult {
  [key: string]: unknown;
  content: { type: 'text'; text: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

const text = (t: string, structured?: Record<string, unknown>, isError = false): ToolResult => ({
  content: [{ type: 'text', text: t }],
  ...(structured ? { structuredContent: structured } : {}),
  ...(isError ? { isError: true } : {}),
});

export const LIFECYCLE_DEFINITIONS = [
  {
    name: 'trellis_run_status',
    title: 'Run status',
    description: "A Trellis run's status, output or error, and its waiting gates.",
    inputSchema: { type: 'object', required: ['runId'], properties: { runId: { type: 'string' } } },
  },
  {
    name: 'trellis_await_run',
    title: 'Await a run',
    description:
      "Waits (up to timeoutMs, default and at most the server's wait) for a Trellis run to finish or to wait at a gate.",
    inputSchema: {
      type: 'object',
      required: ['runId'],
      properties: { runId: { type: 'string' }, timeoutMs: { type: 'number', minimum: 0 } },
    },
  },
  {
    name: 'trellis_cancel_run',
    title: 'Cancel a run',
    description: 'Cancels a Trellis run (its running calls are aborted, remote agents told).',
    inputSchema: { type: 'object', required: ['runId'], properties: { runId: { type: 'string' } } },
  },
  {
    name: 'trellis_list_runs',
    title: 'List runs',
    description: 'Recent runs of a workflow (by tool name or workflow id), newest first.',
    inputSchema: {
      type: 'object',
      required: ['workflow'],
      properties: { workflow: { type: 'string' }, limit: { type: 'number', minimum: 1, maximum: 50 } },
    },
  },
] as const satisfies { name: (typeof LIFECYCLE_TOOLS)[number]; [k: string]: unknown }[];

function waitingGates(r: RunRecord): { nodeId: string; prompt: string }[] {
  return Object.entries(r.nodes)
    .filter(([, n]) => n.status === 'waiting')
    .map(([nodeId, n]) => ({ nodeId, prompt: n.prompt ?? '' }));
}

/**
 * The MCP result for a run in its current state. Its `_meta` names the run and what it has cost so
 * far (`trellis/runId`, `trellis/status`, `trellis/costUsd`), whatever the outcome.
 */
export function runResult(r: RunRecord, consoleBase: string): ToolResult {
  const result = runResultBody(r, consoleBase);
  if (typeof r.costUsd === 'number')
    result._meta = { 'trellis/runId': r.id, 'trellis/status': r.status, 'trellis/costUsd': r.costUsd };
  return result;
}

function runResultBody(r: RunRecord, consoleBase: string): ToolResult {
  const url = `${consoleBase}/runs/${encodeURIComponent(r.id)}`;
  switch (r.status) {
    case 'succeeded': {
      const out = r.output;
      const structured =
        out !== null && typeof out === 'object' && !Array.isArray(out) ? (out as Record<string, unknown>) : { output: out };
      return text(JSON.stringify(out ?? null), structured);
    }
    case 'failed':
    case 'cancelled':
      return text(
        `run ${r.id} ${r.status}${r.error ? `: ${r.error.code}: ${r.error.message}` : ''}`,
        { runId: r.id, status: r.status, error: r.error },
        true,
      );
    case 'waiting': {
      const gates = waitingGates(r);
      const first = gates[0];
      return text(
        `run ${r.id} waits for a person${first ? ` at "${first.nodeId}": ${first.prompt}` : ''}. ` +
          `Decide it in the Trellis console (${url}), then call trellis_await_run with this runId.`,
        { runId: r.id, status: 'waiting', waitingFor: gates, consoleUrl: url },
      );
    }
    default:
      return text(`run ${r.id} is ${r.status}; call trellis_await_run with this runId to follow it.`, {
        runId: r.id,
        status: r.status,
        consoleUrl: url,
      });
  }
}

async function roleOn(c: CallContext, workflowId: string): Promise<Role | undefined> {
  return c.principal.isAdmin ? 'owner' : getRole(c.ctx.db, workflowId, c.principal.name);
}

/** Waits for the run to finish, wait at a gate, the deadline, or the client's cancellation. */
async function follow(c: CallContext, runId: string, waitMs: number): Promise<RunRecord | undefined> {
  const engine = c.ctx.engine;
  if (!engine) return undefined;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), waitMs);
    onAbort = () => resolve(undefined);
    c.signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([engine.waitForRun(runId, { orWaiting: true }), stop]);
  } finally {
    clearTimeout(timer);
    if (onAbort) c.signal.removeEventListener('abort', onAbort);
  }
}

const NODE_DONE = new Set<RunEvent['type']>(['node.succeeded', 'node.failed', 'node.skipped', 'node.cancelled']);

export async function callWorkflowTool(c: CallContext, tool: WorkflowTool, args: unknown): Promise<ToolResult> {
  const engine = c.ctx.engine;
  if (!engine) return text('this Trellis server has no runner attached', undefined, true);
  let runId: string;
  try {
    const r = await engine.startRun({
      workflowId: tool.workflowId,
      version: tool.version,
      input: args ?? {},
      createdBy: c.principal.name,
      ...(c.traceParent === undefined ? {} : { traceParent: c.traceParent }),
    });
    runId = r.runId;
  } catch (err) {
    if (err instanceof TrellisError && err.category === 'user') return text(`${err.code}: ${err.message}`, undefined, true);
    throw err;
  }
  const onAbort = () => void engine.cancelRun(runId, 'cancelled by the MCP client').catch(() => {});
  c.signal.addEventListener('abort', onAbort, { once: true });
  // Progress: one notification per node that finishes or waits.
  let done = 0;
  const total = Object.keys((await engine.getRun(runId))?.nodes ?? {}).length;
  const sub = c.progress
    ? engine.subscribe(runId, {
        after: 0,
        onEvent: (e) => {
          if (!e.nodeId) return;
          if (NODE_DONE.has(e.type)) done++;
          else if (e.type !== 'node.waiting' && e.type !== 'node.started') return;
          void c.progress?.(done, total, `${e.nodeId}: ${e.type.slice(5)}`).catch(() => {});
        },
      })
    : undefined;
  try {
    const r = await follow(c, runId, c.waitMs);
    if (c.signal.aborted) return text(`run ${runId} was cancelled`, { runId, status: 'cancelled' }, true);
    return runResult(r ?? (await engine.getRun(runId)) ?? ({ id: runId, status: 'running' } as RunRecord), c.consoleBase);
  } finally {
    sub?.close();
    c.signal.removeEventListener('abort', onAbort);
  }
}

function runIdOf(args: unknown): string | undefined {
  const id = (args as { runId?: unknown } | null)?.runId;
  return typeof id === 'string' && id.length > 0 && id.length <= 200 ? id : undefined;
}

/** The run, if the caller holds at least `role` on its workflow. */
async function accessibleRun(c: CallContext, runId: string, role: Role): Promise<RunRecord | ToolResult> {
  const r = await c.ctx.engine?.getRun(runId);
  if (!r) return text(`no run '${runId}'`, undefined, true);
  if (!roleAtLeast(await roleOn(c, r.workflowId), role))
    return text(`'${c.principal.name}' may not ${role === 'viewer' ? 'see' : 'cancel'} run '${runId}'`, undefined, true);
  return r;
}

export async function callLifecycleTool(c: CallContext, name: string, args: unknown): Promise<ToolResult> {
  const engine = c.ctx.engine;
  if (!engine) return text('this Trellis server has no runner attached', undefined, true);
  if (name === 'trellis_list_runs') {
    const wanted = (args as { workflow?: unknown } | null)?.workflow;
    const limitArg = Number((args as { limit?: unknown } | null)?.limit ?? 20);
    const limit = Number.isFinite(limitArg) ? Math.min(50, Math.max(1, Math.floor(limitArg))) : 20;
    if (typeof wanted !== 'string') return text('give "workflow": a tool name or a workflow id', undefined, true);
    const tools = await workflowTools(c.ctx, c.principal);
    const tool = tools.find((t) => t.name === wanted || t.workflowId === wanted);
    if (!tool) return text(`no workflow '${wanted}' that '${c.principal.name}' may run`, undefined, true);
    const page = await engine.listRuns({ workflowId: tool.workflowId, limit });
    const runs = page.runs.map((r) => ({
      runId: r.id,
      status: r.status,
      createdAt: r.createdAt,
      finishedAt: r.finishedAt,
      costUsd: r.costUsd,
      error: r.error,
    }));
    return text(runs.length === 0 ? 'no runs yet' : runs.map((r) => `${r.runId} ${r.status} ${r.createdAt}`).join('\n'), {
      workflowId: tool.workflowId,
      runs,
    });
  }
  const runId = runIdOf(args);
  if (!runId) return text('give "runId": the id a workflow tool returned', undefined, true);
  switch (name) {
    case 'trellis_run_status': {
      const r = await accessibleRun(c, runId, 'viewer');
      return 'content' in r ? r : runResult(r, c.consoleBase);
    }
    case 'trellis_await_run': {
      const r = await accessibleRun(c, runId, 'viewer');
      if ('content' in r) return r;
      if (isTerminalRunStatus(r.status)) return runResult(r, c.consoleBase);
      const t = Number((args as { timeoutMs?: unknown } | null)?.timeoutMs ?? c.waitMs);
      const waited = await follow(c, runId, Number.isFinite(t) ? Math.min(c.waitMs, Math.max(0, t)) : c.waitMs);
      return runResult(waited ?? (await engine.getRun(runId)) ?? r, c.consoleBase);
    }
    case 'trellis_cancel_run': {
      const r = await accessibleRun(c, runId, 'runner');
      if ('content' in r) return r;
      const out = await engine.cancelRun(runId, `cancelled by ${c.principal.name} through MCP`);
      return text(`run ${runId}: ${out?.status ?? 'unknown'}`, { runId, status: out?.status ?? null });
    }
    default:
      return text(`unknown tool '${name}'`, undefined, true);
  }
}
