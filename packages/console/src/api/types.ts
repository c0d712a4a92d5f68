/**
 * Shapes of the public API as the console's pages read them. Every response is parsed by the
 * API schemas of @trellis/client (shared with the server) before it reaches these types; the
 * ApiClient maps a few of them to the console's vocabulary (a list's `latestVersion` is the
 * row's `version`; a tool is named `<server>/<tool>`).
 */
import type { CompiledSummary, RunRecord, RunStatus, RunSummary, ValidationError, WorkflowDefinition } from '@trellis/core';

export type { CompiledSummary, RunEvent, RunRecord, RunSummary, ValidationError, WorkflowDefinition } from '@trellis/core';

/** A workflow as listed: its latest version and, when the server knows it, its last run. */
export interface WorkflowSummary {
  id: string;
  name: string;
  description?: string | null;
  /** The latest version (the server's list calls it `latestVersion`; normalised here). */
  version: number;
  latestVersion?: number;
  owner?: string;
  createdAt?: string;
  updatedAt?: string;
  lastRun?: (Pick<RunSummary, 'id' | 'status'> & { createdAt?: string }) | null;
  /** Active triggers of the latest version, by type. */
  triggers?: { schedule: number; webhook: number };
}

/** `GET /workflows/:id`: the latest version with its definition and compiled summary. */
export interface WorkflowDetail extends WorkflowSummary {
  definition: WorkflowDefinition;
  compiled?: CompiledSummary;
}

export interface WorkflowVersion {
  version: number;
  createdAt?: string;
  createdBy?: string | null;
  definition?: WorkflowDefinition;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface ValidateResult {
  valid: boolean;
  errors: ValidationError[];
  compiled?: CompiledSummary | null;
}

export interface AgentSkill {
  id: string;
  name?: string;
  description?: string;
  tags?: string[];
  /** Not part of the A2A card; some registries add it so the inspector can build a form. */
  inputSchema?: Record<string, unknown>;
}

export interface Agent {
  id: string;
  name: string;
  url: string;
  description?: string;
  skills: AgentSkill[];
  /** The A2A agent card as fetched (skills' examples and input/output modes live here). */
  card?: Record<string, unknown>;
  /** Registration headers as registered: `{{ $secrets.NAME }}` references, never values. */
  headers?: Record<string, string>;
}

export interface ToolInfo {
  /** `<server>/<tool>`: the value a tool_call node's `tool` takes. */
  name: string;
  description?: string;
  inputSchema?: Record<string, unknown>;
}

export interface ToolServer {
  id: string;
  name: string;
  url?: string | null;
  command?: string | null;
  /** The tools as the server lists them (bare names; `<server name>/<tool>` in a node). */
  tools: ToolInfo[];
  /** Registration headers as registered: `{{ $secrets.NAME }}` references, never values. */
  headers?: Record<string, string>;
  transport?: 'http' | 'stdio';
  /** `run`: a session (stdio: a process) per run; `shared`: one pooled session (a stateless server). */
  sessions?: 'run' | 'shared';
  /** stdio, shown to administrators and the creator only: the arguments. */
  args?: string[];
  /** stdio, administrators and the creator only: variable names with references as written, other values `[hidden]`. */
  env?: Record<string, string>;
  /** stdio, administrators and the creator only: the working directory (null: the host's). */
  cwd?: string | null;
}

/** What the Tools form registers: a Streamable HTTP server (anyone) or a stdio command (administrators). */
export type ToolServerRegistration =
  | { name: string; url: string; headers?: Record<string, string>; sessions?: 'run' | 'shared' }
  | {
      name: string;
      command: string;
      args?: string[];
      env?: Record<string, string>;
      cwd?: string;
      sessions?: 'run' | 'shared';
    };

/** A secret as the API shows it: never its value. */
export interface SecretInfo {
  name: string;
  /** `global`, or `workflow:<id>`. */
  scope: string;
  description: string | null;
  updatedAt: string;
  updatedBy: string;
}

export interface Template {
  id: string;
  name: string;
  description?: string | null;
  builtin?: boolean;
  tags?: string[];
  definition?: WorkflowDefinition;
}

/** What `POST /workflows/:id/run` answers. */
export interface StartedRun {
  id: string;
  status: string;
}

/** A run in a history list (`GET /workflow_runs`). */
export interface RunHistoryItem extends RunSummary {
  workflowName: string;
  /** The input as JSON, cut to 200 characters. */
  inputPreview: string;
}

export interface RunHistoryQuery {
  workflowId?: string;
  status?: RunStatus[];
  /** ISO times: created at or after / before. */
  since?: string;
  until?: string;
  origin?: 'manual' | 'schedule' | 'webhook';
  topLevel?: boolean;
  limit?: number;
  cursor?: string;
}

export interface TestRunRequest {
  node: string;
  mode: 'node' | 'upTo';
  definition?: unknown;
  fromRun?: string;
  input?: unknown;
  waitMs?: number;
}

/** `POST /workflows/:id/test`. */
export interface TestRunResult {
  id: string;
  workflowId: string;
  node: string;
  mode: 'node' | 'upTo';
  fromRun: string | null;
  finished: boolean;
  note?: string;
  record: RunRecord;
}
