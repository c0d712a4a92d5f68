/**
 * Bounds on one JSONata evaluation, checked on every step of JSONata's evaluator (depth and
 * time, through its evaluate hooks) and on every sequence it builds (JSONata's own `sequence`
 * option), so a runaway expression is stopped from inside the evaluation and never hangs the
 * process.
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

/** Cache key part for a set of limits: only the sequence limit is fixed when JSONata creates an evaluator. */
export function limitsKey(l: ExpressionLimits): string {
  return String(l.maxSequence);
}
