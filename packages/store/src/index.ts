/**
 * @trellis/store — storage: SQLite and PostgreSQL, migrations, the run store and the areas (workflows, tokens, registries, secrets, triggers).
 * The public surface, by name; what other Trellis packages need but users do not is at
 * `@trellis/store/internal` (no stability promise). A new public name is added here.
 */
/** The agent registry's rows. */
export {
  type AgentRecord,
  deleteAgent,
  findAgentByUrl,
  getAgent,
  insertAgent,
  listAgents,
  type NewAgent,
  updateAgentCard,
} from './areas/agents.ts';
/** Run analytics of one workflow over a time window (the console's analytics page). */
export {
  type AnalyticsBucket,
  type AnalyticsPoint,
  type AnalyticsQuery,
  bucketStarts,
  type FailureGroup,
  histogramQuantile,
  type NodeStat,
  type WorkflowAnalytics,
  workflowAnalytics,
} from './areas/analytics.ts';
/** Users and API tokens. */
export {
  ADMIN_PRINCIPAL,
  configuredTokenProblem,
  createToken,
  ensureAdmin,
  generateToken,
  isWellFormedToken,
  listTokens,
  type NewToken,
  PRINCIPAL_PATTERN,
  type Principal,
  revokeToken,
  TOKEN_PREFIX,
  type TokenInfo,
  touchToken,
  verifyToken,
} from './areas/auth.ts';
/** Per-workflow roles. */
export {
  getRole,
  grant,
  isRole,
  listPermissions,
  type PermissionEntry,
  ROLES,
  type Role,
  roleAtLeast,
  setPermissions,
} from './areas/permissions.ts';
/** Run history across workflows. */
export {
  INPUT_PREVIEW_CHARS,
  InvalidHistoryCursorError,
  listRunHistory,
  type RunHistoryItem,
  type RunHistoryQuery,
  type RunOrigin,
} from './areas/run-history.ts';
/** The workflows a principal may run (role `runner` or above. */
export { type RunnableWorkflow, runnableWorkflows } from './areas/runnable.ts';
/** Triggers. */
export {
  type DueSchedule,
  type ScheduleQueries,
  type ScheduleQuerySource,
  scheduleDb,
  scheduleQueries,
} from './areas/schedule-queries.ts';
/** Scratch workflows. */
export { addScratchVersion, deleteScratchRuns, isScratchWorkflow, scratchRunOwner } from './areas/scratch.ts';
/** One-time console sign-in codes. */
export {
  createSignInCode,
  exchangeSignInCode,
  SIGN_IN_CODE_PREFIX,
  SIGN_IN_CODE_TTL_MS,
  SIGN_IN_SESSION_TTL_MS,
  type SignInExchange,
  type SignInRefusal,
} from './areas/sign-in.ts';
/** Templates. */
export {
  type BuiltinTemplate,
  createTemplate,
  deleteTemplate,
  getTemplate,
  listTemplates,
  type NewTemplate,
  readTemplateFiles,
  type TemplateInfo,
  upsertBuiltinTemplates,
} from './areas/templates.ts';
/** The MCP tool-server registry's rows. */
export {
  deleteToolServer,
  getToolServer,
  insertToolServer,
  listToolServers,
  type NewToolServer,
  type StoredTool,
  TOOL_SERVER_SESSIONS,
  TOOL_SERVER_TRANSPORTS,
  type ToolServerRecord,
  type ToolServerSessions,
  type ToolServerTransport,
  updateToolServerTools,
} from './areas/tool-servers.ts';
export {
  activeTriggerCounts,
  type CompletedTick,
  claimDelivery,
  completeTicks,
  DELIVERY_WINDOW_MS,
  type DeliveryClaim,
  dueSchedules,
  earliestTick,
  getTrigger,
  listTriggers,
  pruneDeliveries,
  recordTriggerRun,
  removeTriggers,
  setDeliveryRun,
  setTriggerSecret,
  syncTriggers,
  type TriggerInfo,
  triggersOfRuns,
} from './areas/triggers.ts';
/** Resolving `workflow` node references (sub-workflows). */
export { createWorkflowResolver, lookupWorkflowRef } from './areas/workflow-refs.ts';
/** Workflows and their versions. */
export {
  addVersion,
  createWorkflow,
  getVersion,
  getWorkflow,
  lastRunsOf,
  listVersions,
  listWorkflows,
  type NewWorkflow,
  softDelete,
  type WorkflowInfo,
  type WorkflowListQuery,
  type WorkflowPage,
  type WorkflowVersionInfo,
  type WorkflowVersionSummary,
} from './areas/workflows.ts';
export { StoreOpenError } from './errors.ts';
/** One process serves a SQLite database at a time. */
export { acquireInstanceLock, DatabaseInUseError, type InstanceLock } from './instance-lock.ts';
export { MIGRATIONS } from './migrations/index.ts';
/** One entry point for callers (CLI, server, worker). */
export { type OpenStoreOptions, openStore, type Store, type StoreHandle } from './open.ts';
/** Trellis on PostgreSQL. */
export {
  isPostgresUrl,
  type ListenOptions,
  listenPostgres,
  openPostgres,
  type PostgresHandle,
  type PostgresOptions,
  redactUrl,
} from './postgres.ts';
export { InvalidCursorError } from './runs/errors.ts';
/** The run invariants. */
export {
  checkRunInvariants,
  formatInvariantReport,
  INVARIANT_RULES,
  type InvariantOptions,
  type InvariantReport,
  type InvariantRule,
  type InvariantViolation,
  NODE_STATUS_AFTER_EVENT,
} from './runs/invariants.ts';
/** Many workers, one database. */
export { CHANNELS, LeaseLostError, RECONNECTED, type RunLeaseStore, type Subscription } from './runs/lease-store.ts';
/** The one mapping between the runs area's domain values and its rows, for both dialects. */
export {
  type AttemptEnd,
  attemptStatusOf,
  iso,
  type LoadedRun,
  type NodeWrite,
  nodeStatusOf,
  type RunWrite,
  type RunWriteOp,
  runStatusOf,
  type StoredNode,
  toPersistedRunState,
  writeRunId,
} from './runs/mapping.ts';
/** The runs area on PostgreSQL, and the lease store for many workers. */
export { PgRunStore } from './runs/pg-run-store.ts';
/** Maps run rows to the run record of SPEC §1 (the API shape). */
export { itemKey, parseItemKey, parseJson, toRunEvent } from './runs/record.ts';
/** The runs area. */
export type { NewRetry, NewRun, PastNode, PastRun, RetryNode, RunListPage, RunStore } from './runs/run-store.ts';
/** The runs area on SQLite. */
export { SqliteRunStore } from './runs/sqlite-run-store.ts';
/** The cipher of the secrets store. */
export {
  decryptSecret,
  encryptSecret,
  formatSecretKey,
  generateSecretKey,
  type KeyRing,
  parseSecretKey,
  type SecretKey,
} from './secrets/crypto.ts';
/** Where the secrets key comes from. */
export {
  readKeyFile,
  SECRET_KEY_ENV,
  type SecretKeySource,
  secretKeyFileFor,
  secretKeySource,
  writeKeyFile,
} from './secrets/key-source.ts';
/** The secrets store. */
export {
  parseSecretScope,
  SECRET_NAME_PATTERN,
  SECRET_VALUE_MAX_BYTES,
  type SecretInfo,
  type SecretScope,
  SecretVault,
  scopeAllows,
  webhookSecretContext,
} from './secrets/vault.ts';
/** The embedded SQLite database. */
export { migrate, openSqlite, type SqliteHandle } from './sqlite.ts';
/** Row types. */
export type { Database, NodeRetryInfo, RunRetryInfo } from './tables.ts';
