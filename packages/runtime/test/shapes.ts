/**
 * Workflow shapes that stress the commit path: long chains (many batches per run, each
 * depending on the last) and wide fans (one huge batch, then a join over all of it). Shared by
 * the PostgreSQL commit-order tests and bench/postgres.ts.
 */
import type { WorkflowDefinitionInput } from '@trellis/core';

/** n chained `transform` nodes, each adding one to its predecessor's value. */
export function builtinChain(n: number): WorkflowDefinitionInput {
  return {
    name: `builtin-chain-${n}`,
    nodes: Array.from({ length: n }, (_, i) => ({
      id: `n${i}`,
      type: 'transform' as const,
      expression: i === 0 ? '1' : `$n${i - 1} + 1`,
    })),
    edges: Array.from({ length: n - 1 }, (_, i) => ({ from: `n${i}`, to: `n${i + 1}` })),
  };
}

/** n chained `tool_call` nodes of `tool`. */
export function toolChain(n: number, tool = 'noop'): WorkflowDefinitionInput {
  return {
    name: `tool-chain-${n}`,
    nodes: Array.from({ length: n }, (_, i) => ({ id: `n${i}`, type: 'tool_call' as const, tool })),
    edges: Array.from({ length: n - 1 }, (_, i) => ({ from: `n${i}`, to: `n${i + 1}` })),
  };
}

/** 1 → width → 1: a `parallel` start, `width` transform nodes, a `join` of all of them. */
export function builtinFan(width: number): WorkflowDefinitionInput {
  const mids = Array.from({ length: width }, (_, i) => ({ id: `m${i}`, type: 'transform' as const, expression: `${i}` }));
  return {
    name: `builtin-fan-${width}`,
    nodes: [{ id: 'start', type: 'parallel' }, ...mids, { id: 'end', type: 'join' }],
    edges: [...mids.map((m) => ({ from: 'start', to: m.id })), ...mids.map((m) => ({ from: m.id, to: 'end' }))],
  };
}
