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
