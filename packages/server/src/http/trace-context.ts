/**
 * The W3C trace context a caller sends (`traceparent` header, or `_meta.traceparent` on an MCP
 * request): a run started by the request continues the caller's trace. An invalid value is
 * ignored (the run then starts its own trace), as W3C Trace Context prescribes.
 */
import { parseTraceParent } from '@trellis/runtime';

type HeaderValue = string | string[] | undefined | null;

/** The caller's `traceparent`, normalised, or undefined. */
export function incomingTraceParent(value: HeaderValue | unknown): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return typeof v === 'string' ? parseTraceParent(v) : undefined;
}

/** `{ traceParent }` to spread into a start-run request, or nothing. */
export function traceParentField(value: HeaderValue | unknown): { traceParent?: string } {
  const tp = incomingTraceParent(value);
  return tp === undefined ? {} : { traceParent: tp };
}
