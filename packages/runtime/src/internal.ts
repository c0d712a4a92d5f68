/**
 * @trellis/runtime/internal — helpers the other Trellis packages and the tests use that are not
 * part of the public surface (no stability promise between versions).
 */
/** Giving V8's spare memory back when the process has been quiet after a burst. */
export { IDLE_TRIM_MS, type IdleTrimStats, idleTrimStats, trimNow } from './memory/idle-trim.ts';
/** Which addresses an outbound call may reach. */
export { refusalReason } from './outbound/address-policy.ts';
/** A workflow version prepared for execution. */
export { PreparedCache, prepareWorkflow } from './prepared.ts';
/** How long expression-sandbox workers may sit idle before they are stopped. */
export { IDLE_RETIRE_MS, LAST_WORKER_RETIRE_MS } from './sandbox/pool.ts';
/** Putting secret values into a request at the last moment. */
export { type HttpSecretPlan, httpSecretPlan, renderParts, runSecretReveal } from './secrets/inject.ts';
/** OpenTelemetry traces of runs, built from the engine's committed events (it listens to the event hub. */
export { TRACE_ATTR } from './tracing/run-tracer.ts';
