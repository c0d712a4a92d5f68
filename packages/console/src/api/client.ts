/**
 * The console's only door to the server. Every call goes through the typed client of
 * @trellis/client, which parses each response with the API's own schemas (the module the
 * server validates and documents with), so a response off the contract is an error here, not a
 * guess. This class keeps the console's vocabulary (method names, the view types of types.ts)
 * on top of it. The token is passed in (not read from storage) so the client is testable.
 */
import { type ResponseBody, TrellisClient } from '@trellis/client';
import type { CompiledSummary, RunEvent, RunRecord, RunSummary, ValidationError, WorkflowDefinition } from '@trellis/core';
import type {
  Agent,
  Page,
  RunHistoryItem,
  RunHistoryQuery,
  SecretInfo,
  StartedRun,
  Template,
  TestRunRequest,
  TestRunResult,
  ToolInfo,
  ToolServer,
  ToolServerRegistration,
  ValidateResult,
  WorkflowDetail,
  WorkflowSummary,
  WorkflowVersion,
} from './types.ts';

export interface ApiClientOptions {
  /** Origin of the server; '' for the page's own origin. */
  baseUrl?: string;
  token: string;
  /** Called when the server answers 401, so the app can sign out. */
  onUnauthorized?: () => void;
  fetch?: typeof fetch;
}

export type GateDecisionBody = { comment?: string; data?: unknown };

/** Stored definitions were compiled when saved; the API types them as plain JSON. */
const asDefinition = (d: unknown) => d as WorkflowDefinition;
/** Compiler codes on the wire are strings; they are the core's closed set. */
const asProblems = (e: { code: string; message: string }[]) => e as ValidationError[];

export class ApiClient {
  readonly baseUrl: string;
  readonly token: string;
  /** The typed client underneath: use `api.client.call(operationId, …)` for calls without a method here. */
  readonly client: TrellisClient;

  constructor(opts: ApiClientOptions) {
    this.baseUrl = (opts.baseUrl ?? '').replace(/\/$/, '');
    this.token = opts.token;
    this.client = new TrellisClient({
      baseUrl: this.baseUrl,
      token: opts.token,
      fetch: opts.fetch ?? ((input, init) => fetch(input, init)),
      ...(opts.onUnauthorized ? { onUnauthorized: opts.onUnauthorized } : {}),
    });
  }

  /** WebSocket URL of a run's event stream, resuming after `after`. */
  runSocketUrl(runId: string, after: number): string {
    return this.client.runSocketUrl(runId, after);
  }

  // Workflows

  async listWorkflows(query: { limit?: number; cursor?: string; q?: string } = {}): Promise<Page<WorkflowSummary>> {
    const page = await this.client.call('listWorkflows', {
      query: { limit: query.limit ?? 100, cursor: query.cursor, q: query.q },
    });
    return { items: page.items.map((w) => ({ ...w, version: w.latestVersion })), nextCursor: page.nextCursor };
  }

  async getWorkflow(id: string): Promise<WorkflowDetail> {
    const w = await this.client.call('getWorkflow', { params: { id } });
    return { ...w, definition: asDefinition(w.definition), compiled: w.compiled ?? undefined };
  }

  async createWorkflow(definition: WorkflowDefinition): Promise<WorkflowDetail> {
    const w = await this.client.call('createWorkflow', { body: definition as unknown as Record<string, unknown> });
    return { ...w, definition, compiled: w.compiled };
  }

  /** Saves a new version; runs keep the version they started on. */
  async saveWorkflow(id: string, definition: WorkflowDefinition): Promise<WorkflowDetail> {
    const w = await this.client.call('updateWorkflow', {
      params: { id },
      body: definition as unknown as Record<string, unknown>,
    });
    return { ...w, definition, compiled: w.compiled };
  }

  async deleteWorkflow(id: string): Promise<void> {
    await this.client.call('deleteWorkflow', { params: { id } });
  }

  async listVersions(id: string): Promise<WorkflowVersion[]> {
    return (await this.client.call('listWorkflowVersions', { params: { id } })).items;
  }

  async getVersion(id: string, version: number): Promise<WorkflowVersion & { definition: WorkflowDefinition }> {
    const v = await this.client.call('getWorkflowVersion', { params: { id, v: version } });
    return { ...v, definition: asDefinition(v.definition) };
  }

  async validate(definition: unknown): Promise<ValidateResult> {
    const r = await this.client.call('validateWorkflow', { body: definition as Record<string, unknown> });
    return { ...r, errors: asProblems(r.errors), compiled: r.compiled as CompiledSummary | null };
  }

  // Runs

  async startRun(workflowId: string, input: unknown, version?: number): Promise<StartedRun> {
    return this.client.call('startRun', {
      params: { id: workflowId },
      body: { input, ...(version !== undefined ? { version } : {}) },
    });
  }

  async listRuns(workflowId: string, query: { limit?: number; cursor?: string } = {}): Promise<Page<RunSummary>> {
    return this.client.call('listRuns', {
      params: { id: workflowId },
      query: { limit: query.limit ?? 50, cursor: query.cursor },
    });
  }

  async getRun(runId: string): Promise<RunRecord> {
    return this.client.getRun(runId);
  }

  async listEvents(runId: string, after: number): Promise<RunEvent[]> {
    return (await this.client.listRunEvents(runId, after)) as RunEvent[];
  }

  /** Retries a finished run (docs/retry.md); resolves with the new run. */
  async retryRun(
    runId: string,
    body: { from?: string[]; version?: 'same' | 'latest' } = {},
  ): Promise<{ id: string; retryOf: string; reused: number; costSavedUsd: number }> {
    return this.client.call('retryRun', { params: { id: runId }, body });
  }

  async cancelRun(runId: string): Promise<void> {
    await this.client.cancelRun(runId);
  }

  async decideGate(runId: string, nodeId: string, decision: 'approve' | 'reject', body: GateDecisionBody): Promise<void> {
    await this.client.decideGate(runId, nodeId, decision, body);
  }

  // Templates, agents, tools

  async listTemplates(): Promise<Template[]> {
    const { items } = await this.client.call('listTemplates');
    return items.map((t) => ({ ...t, definition: asDefinition(t.definition) }));
  }

  /** Creates a workflow from a template; resolves the new workflow (without its definition). */
  async instantiateTemplate(id: string, name?: string): Promise<WorkflowSummary> {
    const w = await this.client.call('instantiateTemplate', { params: { id }, body: name ? { name } : {} });
    return { ...w, version: w.version };
  }

  async listAgents(): Promise<Agent[]> {
    return (await this.client.call('listAgents')).items;
  }

  async registerAgent(
    url: string,
    name?: string,
    auth: { headers?: Record<string, string>; credential?: string } = {},
  ): Promise<Agent> {
    return this.client.call('registerAgent', {
      body: {
        url,
        ...(name ? { name } : {}),
        ...(auth.headers && Object.keys(auth.headers).length > 0 ? { headers: auth.headers } : {}),
        ...(auth.credential ? { credential: auth.credential } : {}),
      },
    });
  }

  async deleteAgent(id: string): Promise<void> {
    await this.client.call('deleteAgent', { params: { id } });
  }

  async listToolServers(): Promise<ToolServer[]> {
    return (await this.client.call('listToolServers')).items;
  }

  /** Registers a server; empty `headers`/`env`/`args` and a blank `cwd` are left out. */
  async registerToolServer(registration: ToolServerRegistration): Promise<ToolServer> {
    const body: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(registration)) {
      if (v === undefined || v === '') continue;
      if (typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) continue;
      if (Array.isArray(v) && v.length === 0) continue;
      body[k] = v;
    }
    return this.client.call('registerToolServer', { body: body as ToolServerRegistration });
  }

  // Secrets: names, scopes and descriptions only — the API never returns a value.

  async listSecrets(): Promise<{ items: SecretInfo[]; available: boolean }> {
    return this.client.call('listSecrets');
  }

  async putSecret(name: string, body: { value: string; description?: string; scope?: string }): Promise<SecretInfo> {
    return this.client.call('putSecret', { params: { name }, body });
  }

  async deleteSecret(name: string): Promise<void> {
    await this.client.call('deleteSecret', { params: { name } });
  }

  async deleteToolServer(id: string): Promise<void> {
    await this.client.call('deleteToolServer', { params: { id } });
  }

  /** Every tool, named `<server>/<tool>` (the value a tool_call node's `tool` takes). */
  async listTools(): Promise<ToolInfo[]> {
    const { items } = await this.client.call('listTools');
    return items.map((t) => ({
      name: t.id,
      serverId: t.serverId,
      ...(t.description !== undefined ? { description: t.description } : {}),
      inputSchema: t.inputSchema,
    }));
  }

  // Run history across workflows, and the builder's test runs (docs/console.md)

  /** `GET /workflow_runs`: runs of every workflow the caller may see, filtered. */
  async listAllRuns(query: RunHistoryQuery = {}): Promise<Page<RunHistoryItem>> {
    return this.client.call('listAllRuns', {
      query: {
        limit: query.limit ?? 50,
        workflowId: query.workflowId,
        status: query.status && query.status.length > 0 ? query.status.join(',') : undefined,
        since: query.since,
        until: query.until,
        origin: query.origin,
        topLevel: query.topLevel ? 'true' : undefined,
        cursor: query.cursor,
      },
    });
  }

  /** Tests one node ("node") or runs up to it ("upTo") in a scratch run outside the history. */
  async testNode(workflowId: string, body: TestRunRequest): Promise<TestRunResult> {
    return (await this.client.call('testNode', { params: { id: workflowId }, body })) as TestRunResult;
  }

  async getTestRun(workflowId: string, runId: string): Promise<Pick<TestRunResult, 'id' | 'finished' | 'record'>> {
    return (await this.client.call('getTestRun', { params: { id: workflowId, runId } })) as Pick<
      TestRunResult,
      'id' | 'finished' | 'record'
    >;
  }

  /** How to call a workflow: its MCP tool, A2A card and endpoint, REST run URL. */
  async callInfo(workflowId: string): Promise<ResponseBody<'workflowCallInfo'>> {
    return this.client.call('workflowCallInfo', { params: { id: workflowId } });
  }

  /** A saved workflow's triggers with their next ticks, last run and webhook URL. */
  async listTriggers(workflowId: string): Promise<ResponseBody<'listTriggers'>['items']> {
    return (await this.client.call('listTriggers', { params: { id: workflowId } })).items;
  }

  /** Creates (or rotates) a webhook trigger's signing secret; it is shown this once. */
  async createTriggerSecret(workflowId: string, triggerId: string): Promise<{ secret: string }> {
    return this.client.call('createTriggerSecret', { params: { id: workflowId, triggerId } });
  }

  /** Who the token belongs to, and whether it is an administrator's (the Tools page offers stdio to them only). */
  async me(): Promise<{ name: string; isAdmin: boolean }> {
    const me = await this.client.call('whoAmI');
    return { name: me.name, isAdmin: me.isAdmin };
  }

  /** Checks a token without side effects (used by sign-in). */
  async whoami(): Promise<void> {
    await this.client.call('whoAmI');
  }
}
