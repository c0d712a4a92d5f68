/**
 * Built-in executors for the node types the engine runs itself: transform, condition,
 * parallel, join and human_gate. They are pure computations (or a durable wait) with no I/O;
 * expressions are evaluated through `ctx.evaluate`, in the engine's sandbox.
 */
import { type Executor, GATE_TIMEOUT_PRINCIPAL, TrellisError } from '@trellis/core';

/** `transform`: the JSONata expression's value. */
export const transformExecutor: Executor = {
  async execute(_input, ctx) {
    if (ctx.node.type !== 'transform') throw new TrellisError('INTERNAL', 'transform executor got another node type');
    const output = await ctx.evaluate(ctx.node.expression);
    return { kind: 'succeeded', output: output === undefined ? null : output };
  },
};

/** `condition`: `{ value: <result> }`. */
export const conditionExecutor: Executor = {
  async execute(_input, ctx) {
    if (ctx.node.type !== 'condition') throw new TrellisError('INTERNAL', 'condition executor got another node type');
    const value = await ctx.evaluate(ctx.node.expression);
    return { kind: 'succeeded', output: { value: value === undefined ? null : value } };
  },
};

/**
 * `parallel` and `join`: their output is their input — for `parallel` the resolved `input`,
 * for `join` the `{ <predecessor id>: <output> }` map of taken edges that the runner builds.
 */
export const passthroughExecutor: Executor = {
  async execute(input) {
    return { kind: 'succeeded', output: input === undefined ? null : input };
  },
};

/**
 * `human_gate`: the first call renders the prompt and waits; the runner calls again with the
 * decision. Approval → `{ approved, by, comment, data }`; rejection fails with GATE_REJECTED
 * (GATE_TIMEOUT when the gate's own timeout rejected it).
 */
export const humanGateExecutor: Executor = {
  async execute(_input, ctx) {
    if (ctx.node.type !== 'human_gate') throw new TrellisError('INTERNAL', 'gate executor got another node type');
    const d = ctx.decision;
    if (d === undefined) return { kind: 'waiting', prompt: await ctx.renderTemplate(ctx.node.prompt) };
    if (d.approved)
      return { kind: 'succeeded', output: { approved: true, by: d.by, comment: d.comment ?? null, data: d.data ?? null } };
    if (d.by === GATE_TIMEOUT_PRINCIPAL)
      throw new TrellisError('GATE_TIMEOUT', `no decision within ${ctx.node.timeoutMs} ms`, { category: 'user' });
    throw new TrellisError('GATE_REJECTED', d.comment ? `rejected by ${d.by}: ${d.comment}` : `rejected by ${d.by}`, {
      category: 'user',
      details: { by: d.by },
    });
  },
};
