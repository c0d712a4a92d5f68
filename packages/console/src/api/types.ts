/**
 * Shapes of the public API (SPEC §4) as the console reads them. Domain types come from
 * @trellis/core; only list/summary shapes that the core does not define live here. Every
 * response passes through `normalize.ts`, which tolerates the small variations an API can
 * legitimately have (a bare array or `{ items }` page) without the pages caring.
 */
import type { CompiledSummary, RunSummary, ValidationError, WorkflowDefinition } from '@trellis/core';

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
  url?: string;
  command?: string;
  tools: ToolInfo[];
  /** Registration headers as registered: `{{ $secrets.NAME }}` references, never values. */
  headers?: Record<string, string>;
}

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
