/**
 * The console's only door to the server: every call of SPEC §4 the console makes, typed with
 * @trellis/core types. Pages never call fetch themselves, so a change of the API is a change
 * here. The token is passed in (not read from storage) so the client is testable.
 */
import { toPage, unwrap } from './normalize.ts';
import { ApiError, problemFrom } from './problem.ts';
import type {
  Agent,
  Page,
  RunEvent,
  RunRecord,
  RunSummary,
  SecretInfo,
  StartedRun,
  Template,
  ToolInfo,
  ToolServer,
  ValidateResult,
  WorkflowDefinition,
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

export class ApiClient {
  readonly baseUrl: string;
  readonly token: string;
  private readonly onUnauthorized: (() => void) | undefined;
  private readonly fetchImpl: typeof fetch;

  constructor(opts: ApiClientOptions) {
    this.baseUrl = (opts.baseUrl ?? '').replace(/\/$/, '');
    this.token = opts.token;
    this.onUnauthorized = opts.onUnauthorized;
    this.fetchImpl = opts.fetch ?? ((input, init) => fetch(input, init));
  }

  /** Sends one request; resolves the parsed JSON body (undefined for 204) or throws ApiError. */
  async request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const init: RequestInit = {
      method,
      headers: {
        Accept: 'application/json',
        Authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...headers,
      },
    };
    if (body !== undefined) init.body = JSON.stringify(body);
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.baseUrl}/api/v1${path}`, init);
    } catch (err) {
      throw new ApiError(0, 'Network error', err instanceof Error ? err.message : String(err));
    }
    if (!res.ok) {
      const problem = await problemFrom(res);
      if (problem.kind === 'unauthorized') this.onUnauthorized?.();
      throw problem;
    }
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** WebSocket URL of a run's event stream (SPEC §4), resuming after `after`. */
  runSocketUrl(runId: string, after: number): string {
    const origin = this.baseUrl || (typeof location === 'undefined' ? 'http://127.0.0.1' : location.origin);
    const ws = origin.replace(/^http/, 'ws');
    return `${ws}/api/v1/ws/workflow_runs/${encodeURIComponent(runId)}?after=${after}&token=${encodeURIComponent(this.token)}`;
  }

  // Workflows

  async listWorkflows(query: { limit?: number; cursor?: string; q?: string } = {}): Promise<Page<WorkflowSummary>> {
    const params = new URLSearchParams();
    params.set('limit', String(query.limit ?? 100));
    if (query.cursor) params.set('cursor', query.cursor);
    if (query.q) params.set('q', query.q);
    const page = toPage<WorkflowSummary>(await this.request('GET', `/workflows?${params}`), 'workflows');
    return { ...page, items: page.items.map((w) => ({ ...w, version: w.version ?? w.latestVersion ?? 1 })) };
  }

  async getWorkflow(id: string): Promise<WorkflowDetail> {
    return unwrap<WorkflowDetail>(await this.request('GET', `/workflows/${enc(id)}`), 'workflow');
  }

  async createWorkflow(definition: WorkflowDefinition): Promise<WorkflowDetail> {
    return unwrap<WorkflowDetail>(await this.request('POST', '/workflows', definition), 'workflow');
  }

  /** Saves a new version; runs keep the version they started on. */
  async saveWorkflow(id: string, definition: WorkflowDefinition): Promise<WorkflowDetail> {
    return unwrap<WorkflowDetail>(await this.request('PUT', `/workflows/${enc(id)}`, definition), 'workflow');
  }

  async deleteWorkflow(id: string): Promise<void> {
    await this.request('DELETE', `/workflows/${enc(id)}`);
  }

  async listVersions(id: string): Promise<WorkflowVersion[]> {
    return toPage<WorkflowVersion>(await this.request('GET', `/workflows/${enc(id)}/versions`), 'versions').items;
  }

  async getVersion(id: string, version: number): Promise<WorkflowVersion & { definition: WorkflowDefinition }> {
    return unwrap(await this.request('GET', `/workflows/${enc(id)}/versions/${version}`), 'version');
  }

  async validate(definition: unknown): Promise<ValidateResult> {
    return this.request('POST', '/workflows/validate', definition);
  }

  // Runs

  async startRun(workflowId: string, input: unknown, version?: number): Promise<StartedRun> {
    const body: Record<string, unknown> = { input };
    if (version !== undefined) body.version = version;
    return unwrap<StartedRun>(await this.request('POST', `/workflows/${enc(workflowId)}/run`, body), 'run');
  }

  async listRuns(workflowId: string, query: { limit?: number; cursor?: string } = {}): Promise<Page<RunSummary>> {
    const params = new URLSearchParams({ limit: String(query.limit ?? 50) });
    if (query.cursor) params.set('cursor', query.cursor);
    return toPage<RunSummary>(await this.request('GET', `/workflows/${enc(workflowId)}/runs?${params}`), 'runs');
  }

  async getRun(runId: string): Promise<RunRecord> {
    return unwrap<RunRecord>(await this.request('GET', `/workflow_runs/${enc(runId)}`), 'run');
  }

  async listEvents(runId: string, after: number): Promise<RunEvent[]> {
    return toPage<RunEvent>(await this.request('GET', `/workflow_runs/${enc(runId)}/events?after=${after}`), 'events').items;
  }

  /** Retries a finished run (docs/retry.md); resolves with the new run. */
  async retryRun(
    runId: string,
    body: { from?: string[]; version?: 'same' | 'latest' } = {},
  ): Promise<{ id: string; retryOf: string; reused: number; costSavedUsd: number }> {
    return unwrap(await this.request('POST', `/workflow_runs/${enc(runId)}/retry`, body), 'retry');
  }

  async cancelRun(runId: string): Promise<void> {
    await this.request('POST', `/workflow_runs/${enc(runId)}/cancel`, {});
  }

  async decideGate(runId: string, nodeId: string, decision: 'approve' | 'reject', body: GateDecisionBody): Promise<void> {
    await this.request('POST', `/workflow_runs/${enc(runId)}/nodes/${enc(nodeId)}/${decision}`, body);
  }

  // Templates, agents, tools

  async listTemplates(): Promise<Template[]> {
    return toPage<Template>(await this.request('GET', '/templates'), 'templates').items;
  }

  async instantiateTemplate(id: string, name?: string): Promise<WorkflowDetail> {
    return unwrap<WorkflowDetail>(
      await this.request('POST', `/templates/${enc(id)}/instantiate`, name ? { name } : {}),
      'workflow',
    );
  }

  async listAgents(): Promise<Agent[]> {
    return toPage<Agent>(await this.request('GET', '/agents'), 'agents').items.map((a) => ({ ...a, skills: a.skills ?? [] }));
  }

  async registerAgent(
    url: string,
    name?: string,
    auth: { headers?: Record<string, string>; credential?: string } = {},
  ): Promise<Agent> {
    const body: Record<string, unknown> = { url };
    if (name) body.name = name;
    if (auth.headers && Object.keys(auth.headers).length > 0) body.headers = auth.headers;
    if (auth.credential) body.credential = auth.credential;
    return unwrap<Agent>(await this.request('POST', '/agents', body), 'agent');
  }

  async deleteAgent(id: string): Promise<void> {
    await this.request('DELETE', `/agents/${enc(id)}`);
  }

  async listToolServers(): Promise<ToolServer[]> {
    const servers = toPage<ToolServer>(await this.request('GET', '/tool_servers'), 'tool_servers').items;
    return servers.map((s) => ({ ...s, tools: s.tools ?? [] }));
  }

  async registerToolServer(name: string, url: string, headers?: Record<string, string>): Promise<ToolServer> {
    const body = headers && Object.keys(headers).length > 0 ? { name, url, headers } : { name, url };
    return unwrap<ToolServer>(await this.request('POST', '/tool_servers', body), 'tool_server');
  }

  // Secrets: names, scopes and descriptions only — the API never returns a value.

  async listSecrets(): Promise<{ items: SecretInfo[]; available: boolean }> {
    const res = (await this.request('GET', '/secrets')) as { items?: SecretInfo[]; available?: boolean } | null;
    return { items: res?.items ?? [], available: res?.available !== false };
  }

  async putSecret(name: string, body: { value: string; description?: string; scope?: string }): Promise<SecretInfo> {
    return (await this.request('PUT', `/secrets/${enc(name)}`, body)) as SecretInfo;
  }

  async deleteSecret(name: string): Promise<void> {
    await this.request('DELETE', `/secrets/${enc(name)}`);
  }

  async deleteToolServer(id: string): Promise<void> {
    await this.request('DELETE', `/tool_servers/${enc(id)}`);
  }

  async listTools(): Promise<ToolInfo[]> {
    const items = toPage<ToolInfo & { id?: string; server?: string }>(await this.request('GET', '/tools'), 'tools').items;
    // A tool is named `<server>/<tool>` in nodes; registries may send that as `id` with the bare `name`.
    return items.map(({ id, server, ...t }) => ({
      ...t,
      name: id?.includes('/') ? id : server && !t.name.includes('/') ? `${server}/${t.name}` : t.name,
    }));
  }

  /** Checks a token without side effects (used by sign-in). */
  async whoami(): Promise<void> {
    await this.request('GET', '/workflows?limit=1');
  }
}

function enc(s: string): string {
  return encodeURIComponent(s);
}
