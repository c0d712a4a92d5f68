/**
 * Who evaluates expressions. The core parses (the compiler never evaluates anything a
 * definition contains); evaluation goes through an `ExpressionEvaluator`, so the runtime can
 * run it off the main thread (its sandboxed worker pool) while tests, the console and trusted
 * tooling use the in-process one.
 */
import { compileExpression } from './expression.ts';

/** One expression to evaluate against a scope (`context` and upstream outputs by node id). */
export interface EvaluationRequest {
  readonly source: string;
  readonly scope: Record<string, unknown>;
}

export interface EvaluationOptions {
  /** Who asks (the runtime passes the run id): a sandbox serves different keys in turn. */
  readonly key?: string;
}

export interface ExpressionEvaluator {
  /**
   * Evaluates every request, in order, and resolves with their values (plain JSON data;
   * `undefined` where an expression yields nothing). Rejects with TrellisError
   * `EXPRESSION_ERROR` (or `EXPRESSION_SYNTAX`) for the first one that fails.
   */
  evaluate(requests: readonly EvaluationRequest[], options?: EvaluationOptions): Promise<unknown[]>;
}

/** The same evaluator, every call made on behalf of `key`. */
export function keyedEvaluator(evaluator: ExpressionEvaluator, key: string): ExpressionEvaluator {
  const options = { key };
  return { evaluate: (requests) => evaluator.evaluate(requests, options) };
}

/**
 * Evaluates on the calling thread with the default limits. Only for trusted expressions (tests,
 * local tooling): a hostile expression can hold this thread for its whole time limit, and a
 * single huge allocation can take down the process.
 */
export const inProcessEvaluator: ExpressionEvaluator = {
  async evaluate(requests) {
    const out: unknown[] = [];
    for (const r of requests) out.push(await compileExpression(r.source).evaluate(r.scope));
    return out;
  },
};
