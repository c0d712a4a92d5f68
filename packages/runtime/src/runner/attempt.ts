/**
 * Executing one attempt: build the node's scope, resolve its input bindings, call the executor
 * with an AbortSignal and a per-attempt timeout, enforce the output size cap, and evaluate the
 * outgoing edge conditions. Every failure becomes an ErrorInfo; nothing here throws.
 */
import {
  type CancelContext,
  type CostReport,
  type ErrorInfo,
  type EvaluationRequest,
  type ExecutionResult,
  type ExecutorContext,
  type ExecutorResolver,
  type ExpressionEvaluator,
  type GateDecision,
  keyedEvaluator,
  renderTemplate,
  TrellisError,
  toErrorInfo,
  willRetry,
} from '@trellis/core';
import type { Clock } from '../clock.ts';
import { AttemptAbort } from './attempt-abort.ts';
import type { EngineLogger } from './engine.ts';
import type { HotRun, InFlight } from './hot-run.ts';

export type AttemptOutcome =
  | { kind: 'succeeded'; input: unknown; output: unknown; cost: CostReport | undefined; durationMs: number; taken: number[] }
  | { kind: 'waiting'; input: unknown; prompt: string }
  | { kind: 'failed'; input: unknown; error: ErrorInfo; cost: CostReport | undefined; taken: number[] | undefined };

export interface AttemptRunnerOptions {
  executors: ExecutorResolver;
  /** Where every expression of a definition is evaluated (the sandbox pool). */
  evaluator: ExpressionEvaluator;
  clock: Clock;
  maxOutputBytes: number;
  logger: EngineLogger;
  saveRemoteRef(run: HotRun, nodeId: string, ref: unknown): Promise<void>;
}

export class AttemptRunner {
  active = 0;

  constructor(private readonly o: AttemptRunnerOptions) {}

  async run(
    run: HotRun,
    node: number,
    attempt: number,
    decision: GateDecision | undefined,
    item?: number,
  ): Promise<AttemptOutcome> {
    const { prepared } = run;
    const cnode = prepared.compiled.nodes[node]!;
    // A map item runs the map's `do` body, with `$item` and `$index` in scope, and has no edges.
    const def = item === undefined ? cnode.def : cnode.map!.body;
    const key = item === undefined ? cnode.id : `${cnode.id}[${item}]`;
    const flightKey = item === undefined ? node : `${node}:${item}`;
    const started = this.o.clock.now();
    // Each run's expressions queue on their own in the sandbox (runs take turns).
    const ev = keyedEvaluator(this.o.evaluator, run.id);
    const controller = new AttemptAbort();
    let cost: CostReport | undefined;
    let input: unknown;
    const flight: InFlight = { attempt, controller };
    run.inflight.set(flightKey, flight);
    const timeoutMs = def.type === 'human_gate' ? undefined : def.timeoutMs;
    const timer =
      timeoutMs === undefined || decision !== undefined
        ? undefined
        : this.o.clock.setTimeout(
            () => controller.abort(TrellisError.retryable('TIMEOUT', `the attempt took longer than timeoutMs (${timeoutMs} ms)`)),
            timeoutMs,
          );
    this.active++;
    try {
      const scope = run.scopeFor(prepared.references[node]!);
      if (item !== undefined) {
        scope.item = run.itemValue(node, item);
        scope.index = item;
        const bindings = prepared.itemInputs[node];
        input = bindings === undefined ? undefined : await bindings.resolve(scope, ev);
      } else if (cnode.type === 'join') {
        const joined: Record<string, unknown> = {};
        for (const e of cnode.incoming) {
          const from = prepared.compiled.edges[e]!.from;
          if (run.state.nodes[from]!.taken?.includes(e))
            joined[prepared.compiled.nodes[from]!.id] = run.state.nodes[from]!.output ?? null;
        }
        input = joined;
      } else {
        const bindings = prepared.inputs[node];
        input = bindings === undefined ? undefined : await bindings.resolve(scope, ev);
      }
      flight.input = input;
      const executor = this.o.executors.resolve(def);
      if (!executor) {
        const what = def.type === 'tool_call' ? `tool '${def.tool}'` : `node type '${def.type}'`;
        throw new TrellisError(def.type === 'tool_call' ? 'TOOL_NOT_FOUND' : 'EXECUTOR_NOT_FOUND', `no executor for ${what}`, {
          category: 'user',
        });
      }
      const row = this.remoteRefs.get(run.id)?.get(key);
      const ctx: ExecutorContext = {
        runId: run.id,
        nodeId: cnode.id,
        ...(item === undefined ? {} : { item }),
        attempt,
        idempotencyKey: `${run.id}:${key}:${attempt}`,
        get signal() {
          return controller.signal;
        },
        node: def,
        scope,
        logger: { debug() {}, info: this.o.logger.info, warn: this.o.logger.warn, error: this.o.logger.error },
        reportCost: (c) => {
          cost = addCost(cost, c);
        },
        renderTemplate: (t) => renderTemplate(t, scope, ev),
        evaluate: async (source, other) =>
          (await ev.evaluate([{ source, scope: (other ?? scope) as Record<string, unknown> }]))[0],
        remoteRef: row,
        saveRemoteRef: async (ref) => {
          this.setRemoteRef(run.id, key, ref);
          await this.o.saveRemoteRef(run, key, ref);
        },
        decision,
      };
      const result: ExecutionResult = await Promise.race([executor.execute(input, ctx), controller.aborted]);
      if (result.kind === 'waiting') return { kind: 'waiting', input, prompt: result.prompt };
      if (result.cost) cost = addCost(cost, result.cost);
      const output = result.output === undefined ? null : result.output;
      const size = byteLength(output);
      if (size > this.o.maxOutputBytes) {
        throw new TrellisError(
          'OUTPUT_TOO_LARGE',
          `the node's output is ${size} bytes, over the ${this.o.maxOutputBytes}-byte cap; return less data or a reference to it`,
          {
            category: 'user',
          },
        );
      }
      if (item !== undefined)
        return { kind: 'succeeded', input, output, cost, durationMs: this.o.clock.now() - started, taken: [] };
      run.state.nodes[node]!.output = output; // visible to this node's own edge conditions
      const taken = await this.takenEdges(run, node, output);
      return { kind: 'succeeded', input, output, cost, durationMs: this.o.clock.now() - started, taken };
    } catch (err) {
      const error = toErrorInfo(err);
      const ns = run.state.nodes[node]!;
      let taken: number[] | undefined;
      if (item === undefined && cnode.onError === 'continue' && !willRetry(cnode, attempt, ns.leaseLosses, error)) {
        const output = { error: { code: error.code, message: error.message } };
        ns.output = output;
        taken = await this.takenEdges(run, node, output).catch(() => []);
      }
      return { kind: 'failed', input, error, cost, taken };
    } finally {
      this.active--;
      timer?.cancel();
    }
  }

  /** Remote references saved by executors in this process (the database has them too). */
  private readonly remoteRefs = new Map<string, Map<string, unknown>>();

  /** Seeds a remote reference loaded from the database (after a restart). */
  setRemoteRef(runId: string, nodeId: string, ref: unknown): void {
    let refs = this.remoteRefs.get(runId);
    if (!refs) {
      refs = new Map();
      this.remoteRefs.set(runId, refs);
    }
    refs.set(nodeId, ref);
  }

  /** A run left this worker's memory (finished or evicted); its references are in the database. */
  forgetRun(runId: string): void {
    this.remoteRefs.delete(runId);
  }

  /**
   * A node (or item) cancelled while it waited on remote work (an agent's input-required task):
   * the executor cancels that work explicitly (A2A `tasks/cancel`). Nothing is executed again
   * and no gate decision is made up: the node is already recorded as cancelled.
   */
  cancelWaiting(run: HotRun, node: number, attempt: number, reason: string, item?: number): void {
    const cnode = run.prepared.compiled.nodes[node]!;
    const def = item === undefined ? cnode.def : cnode.map!.body;
    const key = item === undefined ? cnode.id : `${cnode.id}[${item}]`;
    const refs = this.remoteRefs.get(run.id);
    if (!refs?.has(key)) return;
    const executor = this.o.executors.resolve(def);
    if (!executor?.cancel) return;
    const ctx: CancelContext = {
      runId: run.id,
      nodeId: cnode.id,
      ...(item === undefined ? {} : { item }),
      attempt,
      node: def,
      remoteRef: refs.get(key),
      reason,
      logger: { debug() {}, info: this.o.logger.info, warn: this.o.logger.warn, error: this.o.logger.error },
    };
    executor.cancel(ctx).catch((err: unknown) => {
      this.o.logger.warn('cancelling remote work failed', { runId: run.id, nodeId: key, error: toErrorInfo(err).message });
    });
  }

  /** The remote reference saved for a node or item key, if any (e.g. a child run's id). */
  remoteRef(runId: string, key: string): unknown {
    return this.remoteRefs.get(runId)?.get(key);
  }

  /** Every remote reference of a run this process knows (for cancelling child runs). */
  remoteRefsOf(runId: string): Iterable<[string, unknown]> {
    return this.remoteRefs.get(runId)?.entries() ?? [];
  }

  /** The outgoing edges whose condition holds: every condition of the node in one evaluation. */
  async takenEdges(run: HotRun, node: number, output: unknown): Promise<number[]> {
    const { prepared } = run;
    const out = prepared.compiled.nodes[node]!.outgoing;
    const conditional: number[] = [];
    const requests: EvaluationRequest[] = [];
    for (const e of out) {
      const cond = prepared.conditions[e];
      if (!cond) continue;
      const scope = run.scopeFor(prepared.conditionVariables[e]!);
      scope[prepared.compiled.nodes[node]!.id] = output;
      conditional.push(e);
      requests.push({ source: cond.source, scope });
    }
    if (requests.length === 0) return [...out];
    const values = await keyedEvaluator(this.o.evaluator, run.id).evaluate(requests);
    const held = new Set<number>();
    for (let i = 0; i < conditional.length; i++) if (values[i] === true) held.add(conditional[i]!);
    return out.filter((e) => !prepared.conditions[e] || held.has(e));
  }
}

function addCost(a: CostReport | undefined, b: CostReport): CostReport {
  const out: CostReport = { ...a };
  if (b.costUsd !== undefined) out.costUsd = (a?.costUsd ?? 0) + b.costUsd;
  if (b.usage) {
    out.usage = {
      inputTokens: (a?.usage?.inputTokens ?? 0) + (b.usage.inputTokens ?? 0),
      outputTokens: (a?.usage?.outputTokens ?? 0) + (b.usage.outputTokens ?? 0),
    };
  }
  return out;
}

function byteLength(v: unknown): number {
  const s = JSON.stringify(v);
  return s === undefined ? 0 : Buffer.byteLength(s);
}
