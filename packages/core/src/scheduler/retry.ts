/**
 * Retry policy (SPEC §1): which failures are retried and how long to wait. Pure functions,
 * shared by the scheduler and by the shell (which must know whether a failure is final before
 * it evaluates the edges of an `onError: "continue"` node).
 */
import type { CompiledNode } from '../compiled.ts';
import type { RetryPolicy } from '../definition.ts';
import { isRetryableError } from '../error-catalogue.ts';
import type { ErrorInfo } from '../errors.ts';

/** Whether a failed attempt gets another one. */
export function willRetry(node: CompiledNode, attempt: number, leaseLosses: number, error: ErrorInfo): boolean {
  return willRetryPolicy(node.retry, attempt, leaseLosses, error);
}

/** `willRetry` for a policy (a map item retries by its `do` body's policy). */
export function willRetryPolicy(policy: Required<RetryPolicy>, attempt: number, leaseLosses: number, error: ErrorInfo): boolean {
  // The error catalogue decides which failures may be retried at all (codes whose retryability
  // is `never` are final, whatever the error says); the policy decides how often.
  if (!isRetryableError(error)) return false;
  return attempt - leaseLosses < policy.maxAttempts;
}

/**
 * Delay before attempt n+1: `min(maxDelayMs, initialDelayMs × backoffFactor^(n-1))`, with
 * "equal jitter" (half fixed, half random) so retries spread out but never collapse to zero.
 * A Retry-After from the remote side is honoured when it asks for longer.
 */
export function retryDelayMs(node: CompiledNode, attempt: number, error: ErrorInfo, random: number): number {
  return retryDelayPolicy(node.retry, attempt, error, random);
}

export function retryDelayPolicy(policy: Required<RetryPolicy>, attempt: number, error: ErrorInfo, random: number): number {
  const { initialDelayMs, backoffFactor, maxDelayMs, jitter } = policy;
  const base = Math.min(maxDelayMs, initialDelayMs * backoffFactor ** Math.max(0, attempt - 1));
  const delay = jitter ? base / 2 + (base / 2) * random : base;
  const after = error.retryAfterMs ?? 0;
  return Math.round(Math.max(delay, after));
}
