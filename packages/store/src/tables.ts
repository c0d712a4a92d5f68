/**
 * Row types: the shape of each table as the database stores it. JSON columns hold text; times
 * are ISO-8601 strings (UTC) so the same rows read alike on SQLite and PostgreSQL. Domain types
 * (core) and API shapes (server) are separate and mapped from these.
 */
export interface WorkflowsTable {
  id: string;
  name: string;
  description: string | null;
  owner: string;
  latest_version: number;
  created_at: string;
  updated_at: string;
  /** Set by DELETE: the workflow disappears from lists, its runs stay readable. */
  deleted_at: string | null;
  /** A scratch workflow (migration 0016): the workflow whose test runs it holds; hidden from lists. */
  scratch_of?: string | null;
}

export interface WorkflowVersionsTable {
  workflow_id: string;
  version: number;
  /** The definition document, JSON. */
  definition: string;
  created_by: string;
  created_at: string;
}

export interface RunsTable {
  id: string;
  workflow_id: string;
  version: number;
  status: string;
  input: string;
  output: string | null;
  error: string | null;
  cost_usd: number;
  created_by: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** The run's deadline (settings.timeoutMs), ISO time. */
  deadline_at: string | null;
  /**
   * The last event seq when the run was created. Not updated per event (that would cost a page
   * write per commit): readers derive it from the events table.
   */
  last_seq: number;
  /** The worker that owns the run while it is hot, and until when (leases; see DESIGN-NOTES). */
  worker_id: string | null;
  lease_expires_at: string | null;
  /** Set when a cancel has been requested but not yet carried out by the owning worker. */
  cancel_requested: number;
  /** The run this one retries (migration 0009; absent from rows written before it). */
  retry_of?: string | null;
  /** A retry's options and what its reuse saved, JSON (RunRetryInfo). */
  retry_info?: string | null;
  /** A child run (`workflow` node): the run and node (`<nodeId>` or `<nodeId>[<item>]`) that started it. */
  parent_run_id?: string | null;
  parent_node_id?: string | null;
  /** Nesting depth: 0 for a run started by a person or trigger, parent's + 1 for a child run. */
  depth?: number;
  /** The caller's W3C `traceparent` (migration 0015): the run's trace continues it. */
  trace_parent?: string | null;
}

/** `runs.retry_info`. */
export interface RunRetryInfo {
  from?: string[];
  version: 'same' | 'latest';
  /** The version of the run retried. */
  fromVersion: number;
  costSavedUsd: number;
}

/** `node_runs.retry_info`. */
export interface NodeRetryInfo {
  costSavedUsd?: number;
  notReused?: string;
  reuseNote?: string;
  approvalRequired?: string;
}

export interface NodeRunsTable {
  run_id: string;
  node_id: string;
  status: string;
  /** The current (latest) attempt number; 0 before the first attempt. */
  attempt: number;
  input: string | null;
  output: string | null;
  error: string | null;
  cost_usd: number;
  started_at: string | null;
  finished_at: string | null;
  /** When the next attempt is due (retry backoff), ISO time. */
  next_attempt_at: string | null;
  /** A waiting node's prompt. */
  prompt: string | null;
  /** When a waiting gate times out, ISO time. */
  wait_until: string | null;
  /** Executor-owned reference to remote work (e.g. an A2A task id), JSON. */
  remote_ref: string | null;
  /** A gate decision not yet consumed by the runner, JSON (GateDecision). */
  decision: string | null;
  /** Indexes of the outgoing edges taken once the node resolved, JSON array (for recovery). */
  taken: string | null;
  /** Retries: the run that executed this reused node. */
  reused_from?: string | null;
  /** Retries: NodeRetryInfo, JSON. */
  retry_info?: string | null;
  /** Recoveries in a row that found the attempt in flight (migration 0005; quarantine at 3). */
  recoveries?: number;
  /** 1 when a clean shutdown left the attempt in flight (migration 0005). */
  interrupted?: number;
  /** A map node: how many items its `items` resolved to (its items are rows `<nodeId>[<index>]`). */
  item_count?: number | null;
}

export interface AttemptsTable {
  run_id: string;
  node_id: string;
  attempt: number;
  status: string;
  started_at: string;
  finished_at: string | null;
  error: string | null;
  cost_usd: number;
  usage: string | null;
  worker_id: string | null;
  lease_expires_at: string | null;
  /** Retries: the attempt was copied from this run. */
  reused_from?: string | null;
  /** 1 when the attempt ended because its worker stopped (lease expired); migration 0018. */
  lease_lost?: number;
}

export interface EventsTable {
  run_id: string;
  seq: number;
  type: string;
  node_id: string | null;
  at: string;
  data: string;
}

export interface UsersTable {
  name: string;
  is_admin: number;
  created_at: string;
}

/** A one-time console sign-in code (only its hash); see areas/sign-in.ts. */
export interface SignInCodesTable {
  code_hash: string;
  principal: string;
  is_admin: number;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

export interface ApiTokensTable {
  id: string;
  principal: string;
  name: string;
  /** SHA-256 of the token, hex. The token itself is never stored. */
  token_hash: string;
  /** The first characters of the token, to recognise it in lists. */
  prefix: string;
  is_admin: number;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
}

export interface PermissionsTable {
  workflow_id: string;
  principal: string;
  role: string;
}

export interface TemplatesTable {
  id: string;
  name: string;
  description: string | null;
  definition: string;
  builtin: number;
  created_by: string | null;
  created_at: string;
}

export interface IdempotencyKeysTable {
  scope: string;
  key: string;
  run_id: string;
  created_at: string;
}

export interface AgentsTable {
  id: string;
  name: string;
  url: string;
  card: string;
  card_hash: string;
  /** Headers sent on every request to the agent, JSON; values may hold `{{ $secrets.NAME }}`. */
  headers: string | null;
  created_by: string;
  created_at: string;
  refreshed_at: string;
}

export interface ToolServersTable {
  id: string;
  name: string;
  transport: string;
  url: string | null;
  command: string | null;
  args: string | null;
  /** The tools last listed, JSON. */
  tools: string;
  /** Headers sent on every request to the server, JSON; values may hold `{{ $secrets.NAME }}`. */
  headers: string | null;
  /** `run` (a session per run) or `shared` (one pooled session: the server is declared stateless). */
  sessions: string;
  /** A stdio server's environment, JSON of name → template (values may hold `{{ $secrets.NAME }}`). */
  env: string | null;
  /** A stdio server's working directory. */
  cwd: string | null;
  created_by: string;
  created_at: string;
  refreshed_at: string;
}

export interface TriggersTable {
  workflow_id: string;
  trigger_id: string;
  type: string;
  /** The workflow version whose definition declared it. */
  version: number;
  /** The trigger's definition, JSON. */
  spec: string;
  enabled: number;
  /** Schedules: the next tick not yet started, ISO time; null for webhooks or a schedule that never fires again. */
  next_fire_at: string | null;
  last_fired_at: string | null;
  last_run_id: string | null;
  /** Webhooks: the HMAC key (shown once when created). */
  secret: string | null;
  secret_created_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface TriggerRunsTable {
  run_id: string;
  workflow_id: string;
  trigger_id: string;
  type: string;
  tick: string | null;
  delivery_id: string | null;
  created_at: string;
}

export interface WebhookDeliveriesTable {
  workflow_id: string;
  trigger_id: string;
  delivery_id: string;
  received_at: string;
  run_id: string | null;
}

export interface SecretsTable {
  name: string;
  /** `global`, or `workflow:<id>`. */
  scope: string;
  description: string | null;
  /** base64 of nonce ‖ AES-256-GCM ciphertext ‖ tag; the value is never stored in clear. */
  ciphertext: string;
  /** The key check value of the key that encrypted the row. */
  key_id: string;
  created_by: string;
  created_at: string;
  updated_by: string;
  updated_at: string;
}

export interface MetaTable {
  key: string;
  value: string;
}

/**
 * A2A tasks of the workflows served as agents, in the official `@a2a-js/sdk` database task
 * store's layout (that store reads and writes the table): `tenant` = the workflow id, `owner` =
 * the principal; `status`, `artifacts`, `history`, `metadata` = the task's A2A JSON.
 */
export interface A2aTasksTable {
  tenant: string;
  owner: string;
  id: string;
  context_id: string;
  /** Epoch milliseconds (PostgreSQL's driver reads a bigint back as a string). */
  status_last_updated: number | string;
  status_state: string | null;
  status: string | null;
  artifacts: string | null;
  history: string | null;
  metadata: string | null;
  protocol_version: string | null;
}

/**
 * The finished runs of a workflow per hour of creation, status and duration bin (SQLite;
 * migration 0021, kept by triggers on `runs`).
 */
export interface AnalyticsHourlyRunsTable {
  workflow_id: string;
  /** `YYYY-MM-DDTHH` of the runs' `created_at`. */
  hour: string;
  status: string;
  /** floor(ln(duration ms) · 20); -1: the run lacks a start or end time. */
  bin: number;
  runs: number;
  cost_usd: number;
}

/** The database, for Kysely. */
export interface Database {
  workflows: WorkflowsTable;
  workflow_versions: WorkflowVersionsTable;
  runs: RunsTable;
  node_runs: NodeRunsTable;
  attempts: AttemptsTable;
  events: EventsTable;
  users: UsersTable;
  api_tokens: ApiTokensTable;
  sign_in_codes: SignInCodesTable;
  permissions: PermissionsTable;
  templates: TemplatesTable;
  idempotency_keys: IdempotencyKeysTable;
  agents: AgentsTable;
  tool_servers: ToolServersTable;
  secrets: SecretsTable;
  trellis_meta: MetaTable;
  triggers: TriggersTable;
  trigger_runs: TriggerRunsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  a2a_tasks: A2aTasksTable;
  analytics_hourly_runs: AnalyticsHourlyRunsTable;
}
