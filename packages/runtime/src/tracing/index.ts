export { runTracerFromEnv, tracingEnabled } from './from-env.ts';
export { decodeTraceParent, parseTraceParent, runSpanId, runTraceId, type TraceParent } from './ids.ts';
export { traceHeadersFor } from './propagation.ts';
export { RunTracer, type RunTracerOptions, runSpanContext, TRACE_ATTR, type TracedRunInfo } from './run-tracer.ts';
