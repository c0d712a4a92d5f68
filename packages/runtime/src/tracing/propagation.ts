/**
 * Where executors find the trace context of the attempt they run, to pass it on as a W3C
 * `traceparent` header. The run tracer registers each attempt's span while it is open; with
 * tracing off the registry stays empty and nothing is added to requests.
 */
import type * as Api from '@opentelemetry/api';
import type { Span } from '@opentelemetry/api';
import type * as OtelCore from '@opentelemetry/core';
import { lazyModule } from '../lazy-module.ts';

const open = new Map<string, Span>();
// Loaded with the first traced attempt (a process that does not trace never loads OpenTelemetry).
const api = lazyModule<typeof Api>('@opentelemetry/api');
const otelCore = lazyModule<typeof OtelCore>('@opentelemetry/core');
let propagator: OtelCore.W3CTraceContextPropagator | undefined;

export function attemptKey(runId: string, nodeId: string, item: number | undefined, attempt: number): string {
  return `${runId}\u0000${nodeId}\u0000${item ?? ''}\u0000${attempt}`;
}

export function registerAttemptSpan(key: string, span: Span): void {
  open.set(key, span);
}

export function unregisterAttemptSpan(key: string): void {
  open.delete(key);
}

/**
 * The W3C trace headers (`traceparent`, and `tracestate` when set) for an attempt, or an empty
 * object when it is not traced.
 */
export function traceHeadersFor(ctx: { runId: string; nodeId: string; item?: number; attempt: number }): Record<string, string> {
  if (open.size === 0) return {};
  const span = open.get(attemptKey(ctx.runId, ctx.nodeId, ctx.item, ctx.attempt));
  if (!span) return {};
  const carrier: Record<string, string> = {};
  propagator ??= new (otelCore().W3CTraceContextPropagator)();
  const { context, trace } = api();
  propagator.inject(trace.setSpan(context.active(), span), carrier, {
    set(c, k, v) {
      c[k] = v;
    },
  });
  return carrier;
}
