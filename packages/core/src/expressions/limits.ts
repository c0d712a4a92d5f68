/**
 * Bounds on one JSONata evaluation. JSONata (>= 2.2) enforces them itself: `stack` and
 * `timeout` are checked on every step of its evaluator, `sequence` on every sequence it builds,
 * so a runaway expression is stopped from inside the evaluation and never hangs the process.
 */
export interface ExpressionLimits {
  /** Maximum evaluator depth (nested sub-expressions and function calls). */
  maxDepth: number;
  /** Maximum wall time of one evaluation, in milliseconds. */
  timeoutMs: number;
  /** Maximum length of any sequence (array) the expression builds. */
  maxSequence: number;
}

export const DEFAULT_EXPRESSION_LIMITS: Readonly<ExpressionLimits> = Object.freeze({
  maxDepth: 200,
  timeoutMs: 1000,
  maxSequence: 1_000_000,
});

export function withDefaults(limits: Partial<ExpressionLimits> | undefined): ExpressionLimits {
  if (!limits) return DEFAULT_EXPRESSION_LIMITS;
  return { ...DEFAULT_EXPRESSION_LIMITS, ...limits };
}

/** Cache key part for a set of limits (JSONata takes its limits when an expression is created). */
export function limitsKey(l: ExpressionLimits): string {
  return `${l.maxDepth}/${l.timeoutMs}/${l.maxSequence}`;
}
