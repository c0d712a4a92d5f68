/**
 * @trellis/runtime — the durable engine around the pure scheduler: executors, outbound guard, expression sandbox, secrets, tracing, triggers.
 * The public surface, by name; what other Trellis packages need but users do not is at
 * `@trellis/runtime/internal` (no stability promise). A new public name is added here.
 */
/** Time as the runner sees it. */
export { type Clock, ManualClock, systemClock, type TimerHandle } from './clock.ts';
/** The engine's public face. */
export type {
  Engine,
  GateDecisionOutcome,
  RetryRunRequest,
  RetryRunResult,
  RunListQuery,
  StartRunRequest,
  StartRunResult,
  SubscribeOptions,
  Subscription,
} from './engine.ts';
/** In-process fan-out of committed events. */
export { EventHub, type EventListener, TERMINAL_EVENT_TYPES } from './events/hub.ts';
/** Built-in executors for the node types the engine runs itself. */
export { conditionExecutor, humanGateExecutor, passthroughExecutor, transformExecutor } from './executors/builtins.ts';
/** The built-in tool `http.request`. */
export {
  createHttpRequestExecutor,
  HTTP_METHODS,
  type HttpRequestExecutorOptions,
  type HttpRequestInput,
  type HttpRequestOutput,
  httpRequestInputSchema,
  parseRetryAfter,
} from './executors/http-request.ts';
/** Maps a node to its executor. */
export { createExecutorResolver, type ExecutorRegistryOptions } from './executors/registry.ts';
/** Which addresses an outbound call may reach. */
export {
  type AllowList,
  allowHostsFromEnv,
  embeddedIPv4,
  isHostAllowed,
  LOOPBACK_ALLOW_HOSTS,
  parseAllowList,
} from './outbound/address-policy.ts';
/** The one door for outbound HTTP. */
export {
  CROSS_ORIGIN_HEADERS,
  createOutboundGuard,
  type HostResolver,
  type OutboundGuard,
  type OutboundGuardOptions,
} from './outbound/guard.ts';
/** A workflow version prepared for execution. */
export { type PreparedWorkflow, prepareWorkflow } from './prepared.ts';
/** Sub-workflows. */
export type { WorkflowResolver } from './runner/children.ts';
/** The runner. */
export { createEngine, type EngineLogger, type EngineOptions, RunnerEngine } from './runner/engine.ts';
/** Many workers, one database (PostgreSQL). */
export type { LeasingOptions } from './runner/leasing.ts';
/** The error a subscriber gets when a run's stored events cannot be read (REPLAY_FAILED). */
export { replayFailure } from './runner/subscriptions.ts';
/** The expression sandbox's limits, their defaults, and how the environment changes them. */
export { DEFAULT_SANDBOX_LIMITS, SANDBOX_ENV, type SandboxLimits, sandboxLimits } from './sandbox/limits.ts';
/** The expression sandbox. */
export { ExpressionPool, type SandboxStats, sharedExpressionPool } from './sandbox/pool.ts';
/** Putting secret values into a request at the last moment. */
export { renderRegistrationHeaders } from './secrets/inject.ts';
/** Redaction. */
export { SecretRedactor } from './secrets/redactor.ts';
/** Where executors get secret values. */
export { NO_SECRETS, type SecretSource, vaultSecretSource } from './secrets/source.ts';
/** Tracing configured by the standard OpenTelemetry variables. */
export { runTracerFromEnv, tracingEnabled } from './tracing/from-env.ts';
/** Deterministic trace identity for a run. */
export { decodeTraceParent, parseTraceParent, runSpanId, runTraceId, type TraceParent } from './tracing/ids.ts';
/** Where executors find the trace context of the attempt they run, to pass it on as a W3C `traceparent` header. */
export { traceHeadersFor } from './tracing/propagation.ts';
/** OpenTelemetry traces of runs, built from the engine's committed events (it listens to the event hub. */
export { RunTracer, type RunTracerOptions, runSpanContext, type TracedRunInfo } from './tracing/run-tracer.ts';
/** The schedule loop. */
export {
  type TriggerEngine,
  TriggerScheduler,
  type TriggerSchedulerOptions,
  type TriggerSchedulerStats,
} from './triggers/scheduler.ts';
