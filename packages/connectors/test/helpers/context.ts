/** Builds real executor contexts for tests: a real AbortController, a remoteRef store, cost capture. */
import { type CostReport, type ExecutorContext, type GateDecision, inProcessEvaluator, type NodeDefinition } from '@trellis/core';

export interface TestContext extends ExecutorContext {
  readonly controller: AbortController;
  readonly costs: CostReport[];
  /** Every ref passed to saveRemoteRef, in order. */
  readonly savedRefs: unknown[];
}

export interface ContextOptions {
  node: NodeDefinition;
  attempt?: number;
  remoteRef?: unknown;
  decision?: GateDecision;
  scope?: Record<string, unknown>;
  /** Runs after a ref is saved (e.g. to simulate a worker dying right then). */
  onSaveRef?: (ref: unknown) => void | Promise<void>;
}

export function makeContext(options: ContextOptions): TestContext {
  const controller = new AbortController();
  const costs: CostReport[] = [];
  const savedRefs: unknown[] = [];
  const attempt = options.attempt ?? 1;
  const nodeId = options.node.id;
  const ctx: TestContext = {
    runId: 'run_test',
    nodeId,
    attempt,
    idempotencyKey: `run_test:${nodeId}:${attempt}`,
    signal: controller.signal,
    node: options.node,
    scope: options.scope ?? {},
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    reportCost: (c) => costs.push(c),
    renderTemplate: async (t) =>
      t.replace(/\{\{\s*\$context\.([A-Za-z_]+)\s*\}\}/g, (_m, k: string) =>
        String((options.scope?.context as Record<string, unknown>)?.[k] ?? ''),
      ),
    evaluate: async (source, scope) =>
      (await inProcessEvaluator.evaluate([{ source, scope: (scope ?? options.scope ?? {}) as Record<string, unknown> }]))[0],
    remoteRef: options.remoteRef,
    saveRemoteRef: async (ref) => {
      savedRefs.push(ref);
      await options.onSaveRef?.(ref);
    },
    decision: options.decision,
    controller,
    costs,
    savedRefs,
  };
  return ctx;
}

/** Awaits a promise expected to reject and returns what it rejected with. */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    (v) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(v)}`);
    },
    (e: unknown) => e,
  );
}
