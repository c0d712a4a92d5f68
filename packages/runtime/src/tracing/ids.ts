/**
 * Deterministic trace identity for a run: the trace id is the first 32 hex characters of
 * SHA-256("trellis-trace:" + runId), the run span's id the first 16 of SHA-256("trellis-span:" +
 * runId). Every process that executes part of a run (the first one, and whichever resumes it
 * after a crash) therefore emits its spans into the same trace under the same run span, with
 * nothing extra stored.
 */
import { createHash } from 'node:crypto';

function hex(prefix: string, runId: string, length: number): string {
  let h = createHash('sha256').update(prefix).update(runId).digest('hex').slice(0, length);
  // All-zero ids are invalid in W3C trace context (vanishingly unlikely; keep the ids valid anyway).
  if (/^0+$/.test(h)) h = `${h.slice(0, -1)}1`;
  return h;
}

export function runTraceId(runId: string): string {
  return hex('trellis-trace:', runId, 32);
}

export function runSpanId(runId: string): string {
  return hex('trellis-span:', runId, 16);
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** A W3C trace context parent: the caller's trace and span. */
export interface TraceParent {
  traceId: string;
  spanId: string;
  /** Bit 0: the caller sampled its span. */
  flags: number;
}

/**
 * Reads a W3C `traceparent` header (https://www.w3.org/TR/trace-context/#traceparent-header).
 * Returns it normalised to version 00 (`00-<trace id>-<span id>-<flags>`), or undefined when it
 * is not a valid one (version ff, all-zero ids, wrong lengths, upper case, or extra fields on
 * version 00): an invalid header is ignored and the run starts its own trace.
 */
export function parseTraceParent(value: string | undefined | null): string | undefined {
  const p = decodeTraceParent(value);
  return p ? `00-${p.traceId}-${p.spanId}-${p.flags.toString(16).padStart(2, '0')}` : undefined;
}

export function decodeTraceParent(value: string | undefined | null): TraceParent | undefined {
  if (typeof value !== 'string' || value.length > 512) return undefined;
  const m = TRACEPARENT.exec(value.trim());
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m as unknown as [string, string, string, string, string, string | undefined];
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, flags: Number.parseInt(flags, 16) };
}
