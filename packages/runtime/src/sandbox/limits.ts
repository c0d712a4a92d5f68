/**
 * The expression sandbox's limits, their defaults, and how the environment changes them.
 * Documented for users in docs/server.md ("Expression sandbox").
 */
import { availableParallelism } from 'node:os';
import { DEFAULT_EXPRESSION_LIMITS } from '@trellis/core';

export interface SandboxLimits {
  /** Worker threads evaluating expressions. */
  workers: number;
  /** Wall time of one expression; the worker is terminated once it has had this much, plus `graceMs`. */
  timeoutMs: number;
  /** How much longer than `timeoutMs` a worker may take before it is terminated. */
  graceMs: number;
  /** V8 old-generation heap of each worker, in MB (`resourceLimits.maxOldGenerationSizeMb`). */
  heapMb: number;
  /** Deepest nesting of evaluation steps (runaway recursion). */
  maxDepth: number;
  /** Longest sequence JSONata may build (its own `sequence` option). */
  maxSequence: number;
  /** Longest string any step of an expression may produce, in characters. */
  maxStringLength: number;
  /** Longest array any step of an expression may produce. */
  maxArrayLength: number;
  /** Largest value one node's expressions may return together, in bytes of JSON (roughly). */
  maxResultBytes: number;
}

export const DEFAULT_SANDBOX_LIMITS: Readonly<SandboxLimits> = Object.freeze({
  workers: Math.max(2, Math.min(4, availableParallelism() - 1)),
  timeoutMs: DEFAULT_EXPRESSION_LIMITS.timeoutMs,
  graceMs: 100,
  heapMb: 256,
  maxDepth: DEFAULT_EXPRESSION_LIMITS.maxDepth,
  maxSequence: DEFAULT_EXPRESSION_LIMITS.maxSequence,
  maxStringLength: 5_000_000,
  maxArrayLength: 1_000_000,
  maxResultBytes: 10_000_000,
});

/** The environment variable that sets each limit. */
export const SANDBOX_ENV: Readonly<Record<keyof SandboxLimits, string>> = Object.freeze({
  workers: 'TRELLIS_EXPRESSION_WORKERS',
  timeoutMs: 'TRELLIS_EXPRESSION_TIMEOUT_MS',
  graceMs: 'TRELLIS_EXPRESSION_GRACE_MS',
  heapMb: 'TRELLIS_EXPRESSION_HEAP_MB',
  maxDepth: 'TRELLIS_EXPRESSION_MAX_DEPTH',
  maxSequence: 'TRELLIS_EXPRESSION_MAX_SEQUENCE',
  maxStringLength: 'TRELLIS_EXPRESSION_MAX_STRING',
  maxArrayLength: 'TRELLIS_EXPRESSION_MAX_ARRAY',
  maxResultBytes: 'TRELLIS_EXPRESSION_MAX_RESULT_BYTES',
});

/**
 * Bounds on each setting. Past the upper ones V8 itself aborts the whole process (an array of
 * more than about 134 million items is a fatal "invalid size" error, not an exception); under
 * 64 MB of heap a worker has no room to fail cleanly.
 */
const FLOORS: Partial<Record<keyof SandboxLimits, number>> = { graceMs: 0, heapMb: 64 };
const CEILINGS: Partial<Record<keyof SandboxLimits, number>> = {
  workers: 64,
  heapMb: 8192,
  maxStringLength: 50_000_000,
  maxArrayLength: 10_000_000,
  maxSequence: 10_000_000,
};

/**
 * Defaults overridden by the environment, then by `overrides`. Throws a plain Error naming the
 * variable when a value is not a positive integer or is over its ceiling.
 */
export function sandboxLimits(
  overrides: Partial<SandboxLimits> = {},
  env: Record<string, string | undefined> = process.env,
): SandboxLimits {
  const out = { ...DEFAULT_SANDBOX_LIMITS };
  for (const key of Object.keys(SANDBOX_ENV) as (keyof SandboxLimits)[]) {
    const name = SANDBOX_ENV[key];
    const raw = env[name];
    if (raw !== undefined && raw.trim() !== '') out[key] = check(Number(raw.trim()), key, name);
    const o = overrides[key];
    if (o !== undefined) out[key] = check(o, key, `the ${key} option`);
  }
  return out;
}

function check(v: number, key: keyof SandboxLimits, what: string): number {
  const min = FLOORS[key] ?? 1;
  if (!Number.isInteger(v) || v < min) throw new Error(`${what} must be a whole number of at least ${min}, got ${v}`);
  const ceiling = CEILINGS[key];
  if (ceiling !== undefined && v > ceiling) throw new Error(`${what} may be at most ${ceiling}, got ${v}`);
  return v;
}
