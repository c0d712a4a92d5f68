/**
 * @trellis/core — workflow definitions, the compiler, expressions, the pure scheduler, statuses, events and errors (no I/O).
 * The public surface, by name; what other Trellis packages need but users do not is at
 * `@trellis/core/internal` (no stability promise). A new public name is added here.
 */
/** The compiled form of a workflow version. */
export type {
  CompiledEdge,
  CompiledMap,
  CompiledNode,
  CompiledSummary,
  CompiledWorkflow,
  CompileResult,
  CriticalPath,
} from './compiled.ts';
/** Last pass. */
export { DEFAULT_ESTIMATED_MS } from './compiler/build.ts';
/** The compiler. */
export { type CompileOptions, compile, DEFAULT_MAX_EDGES, DEFAULT_MAX_NODES, validateDefinition } from './compiler/compile.ts';
/** Definition text to a value. */
export { type DefinitionTextResult, parseDefinitionText } from './compiler/parse-text.ts';
/** The compiled form as the console and `POST /workflows/validate` show it. */
export { summarize } from './compiler/summary.ts';
/** Save-time checks of `workflow` references (sub-workflows), across workflows. */
export {
  checkWorkflowReferences,
  type WorkflowLookup,
  type WorkflowRefCheckOptions,
  type WorkflowReference,
  workflowReferences,
} from './compiler/workflow-refs.ts';
/** The workflow definition format as zod schemas. */
export {
  agentCallNodeSchema,
  agentRefSchema,
  conditionNodeSchema,
  DEFAULT_MAX_WORKFLOW_DEPTH,
  definitionJsonSchema,
  type EdgeDefinition,
  edgeSchema,
  humanGateNodeSchema,
  joinNodeSchema,
  jsonSchemaSchema,
  MAP_BODY_TYPES,
  MAP_DEFAULTS,
  MAP_MAX_ITEMS_LIMIT,
  MAX_NODE_ID_LENGTH,
  type MapBody,
  type MapBodyType,
  mapNodeSchema,
  NODE_ID_PATTERN,
  NODE_TYPES,
  type NodeDefinition,
  type NodeOf,
  type NodeType,
  nodeSchema,
  parallelNodeSchema,
  RETRY_DEFAULTS,
  type RetryPolicy,
  retryPolicySchema,
  settingsSchema,
  toolCallNodeSchema,
  transformNodeSchema,
  type WorkflowDefinition,
  type WorkflowDefinitionInput,
  type WorkflowSettings,
  workflowDefinitionSchema,
  workflowNodeSchema,
} from './definition.ts';
/** The error catalogue: every code with its HTTP status, category and retryability (docs/errors.md). */
export {
  ERROR_CATALOGUE,
  ERROR_CODES,
  type ErrorCode,
  type ErrorCodeEntry,
  errorEntry,
  type HttpErrorCode,
  isErrorCode,
  isRetryableError,
  type Retryability,
  type TrellisErrorCode,
} from './error-catalogue.ts';
/** The error taxonomy. */
export {
  type ErrorCategory,
  type ErrorInfo,
  RUNTIME_CODES,
  type RuntimeCode,
  TrellisError,
  type TrellisErrorOptions,
  toErrorInfo,
  VALIDATION_CODES,
  type ValidationCode,
  type ValidationError,
} from './errors.ts';
/** Run events. */
export { type CostReport, EVENT_TYPES, type EventDataByType, type EventDraft, type EventType, type RunEvent } from './events.ts';
/** The executor contract. */
export type {
  CancelContext,
  ExecutionResult,
  Executor,
  ExecutorContext,
  ExecutorLogger,
  ExecutorResolver,
  GateDecision,
} from './executor.ts';
/** Bare names read at the top of an expression. */
export { bareScopeNames, suggestForBareName } from './expressions/bare-names.ts';
/** Bindings. */
export {
  classifyBindingString,
  type PreparedBindings,
  prepareBindings,
  renderTemplate,
  resolveBindings,
} from './expressions/bindings.ts';
/** JSONata's built-in function names (jsonata 2.2). */
export { CONTEXT_VARIABLE, INDEX_VARIABLE, ITEM_VARIABLE, isReservedName } from './expressions/builtins.ts';
/** Who evaluates expressions. */
export {
  type EvaluationOptions,
  type EvaluationRequest,
  type ExpressionEvaluator,
  inProcessEvaluator,
  keyedEvaluator,
} from './expressions/evaluator.ts';
/** JSONata expressions, parsed once and cached by source, evaluated with limits. */
export {
  clearExpressionCache,
  compileExpression,
  type ExpressionSyntaxInfo,
  MAX_EXPRESSION_LENGTH,
  type PreparedExpression,
  referencedVariables,
  tryCompileExpression,
} from './expressions/expression.ts';
/** Bounds on one JSONata evaluation, checked on every step of JSONata's evaluator (depth and time, through its evaluate hooks) and on every sequence it builds (… */
export { DEFAULT_EXPRESSION_LIMITS, type ExpressionLimits } from './expressions/limits.ts';
/** Plain references. */
export { type PathReference, parsePathReference } from './expressions/path-reference.ts';
/** Secret references. */
export {
  SECRETS_VARIABLE,
  type SecretTemplatePart,
  type SecretUse,
  secretPlaceholder,
  secretReferenceName,
  secretUses,
  splitSecretTemplate,
} from './expressions/secrets.ts';
/** A run's input with its `inputSchema` defaults filled in — the one place defaults are applied, whatever starts the run (the API, the console, `trellis run`, a… */
export { applyInputDefaults } from './input-defaults.ts';
/** Stable content hashes for retries. */
export { canonicalJson } from './retry/hash.ts';
/** Planning a retry. */
export { type OriginalNode, planRetry, type RetryPlan } from './retry/plan.ts';
/** The run record. */
export type { AttemptRecord, ItemRunRecord, NodeRunRecord, RunRecord, RunSummary } from './run-record.ts';
/** The scheduler's transition function. */
export { createRunState, DEFAULT_MAX_RECOVERIES, decide, GATE_TIMEOUT_PRINCIPAL } from './scheduler/decide.ts';
/** The scheduler's rules for `map` nodes. */
export { CHILD_RUN_PRINCIPAL, ITEM_STATUS } from './scheduler/map.ts';
/** Recovery. */
export {
  type PersistedItemState,
  type PersistedNodeState,
  type PersistedRunState,
  rebuildRunState,
} from './scheduler/rebuild.ts';
/** Retry policy. */
export { retryDelayMs, retryDelayPolicy, willRetry, willRetryPolicy } from './scheduler/retry.ts';
/** The scheduler's vocabulary. */
export type { Effect, NodePatch, RunPatch, RunState, SchedulerInput } from './scheduler/types.ts';
/** Closed unions of run and node-run statuses. */
export {
  ATTEMPT_STATUSES,
  type AttemptStatus,
  isResolvedNodeStatus,
  isTerminalRunStatus,
  NODE_STATUSES,
  type NodeStatus,
  RESOLVED_NODE_STATUSES,
  ROLES,
  type Role,
  RUN_STATUSES,
  type RunStatus,
  TERMINAL_RUN_STATUSES,
} from './status.ts';
/** Triggers. */
export {
  CRON_ALIASES,
  type CronCheck,
  checkCron,
  isValidTimeZone,
  nextFireTime,
  nextFireTimes,
  type RunTrigger,
  type ScheduleTrigger,
  scheduleTriggerSchema,
  TRIGGER_ID_PATTERN,
  TRIGGER_TYPES,
  type TriggerDefinition,
  type TriggerType,
  triggerSchema,
  type WebhookTrigger,
  webhookTriggerSchema,
} from './triggers.ts';
