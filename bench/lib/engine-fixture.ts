/**
 * A durable engine on a fresh SQLite file, for the runtime benchmarks.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Executor, WorkflowDefinitionInput } from '@trellis/core';
import { createEngine, createExecutorResolver, type EngineOptions, type RunnerEngine } from '@trellis/runtime';
import { createWorkflow, openSqlite, type SqliteHandle, SqliteRunStore } from '@trellis/store';

export const noop: Executor = { execute: async () => ({ kind: 'succeeded', output: null }) };
export const sleeper: Executor = {
  execute: (input) =>
    new Promise((resolve) => setTimeout(() => resolve({ kind: 'succeeded', output: null }), (input as { ms: number }).ms)),
};

export interface EngineFixture {
  engine: RunnerEngine;
  handle: SqliteHandle;
  save(def: WorkflowDefinitionInput): Promise<string>;
  close(): Promise<void>;
}

export async function engineFixture(options: Partial<EngineOptions> = {}): Promise<EngineFixture> {
  const handle = await openSqlite(join(mkdtempSync(join(tmpdir(), 'trellis-bench-')), 'bench.db'));
  const engine = createEngine({
    store: new SqliteRunStore(handle),
    executors: createExecutorResolver({ tools: { noop, sleep: sleeper } }),
    ...options,
  });
  await engine.whenReady();
  return {
    engine,
    handle,
    async save(def) {
      return (await createWorkflow(handle.db, { name: def.name, definition: def, owner: 'bench' })).id;
    },
    async close() {
      await engine.shutdown(0);
      await handle.close();
    },
  };
}

export function chain(n: number, tool = 'noop'): WorkflowDefinitionInput {
  return {
    name: `chain-${n}`,
    nodes: Array.from({ length: n }, (_, i) => ({ id: `n${i}`, type: 'tool_call' as const, tool })),
    edges: Array.from({ length: n - 1 }, (_, i) => ({ from: `n${i}`, to: `n${i + 1}` })),
  };
}

export function fanOut(width: number): WorkflowDefinitionInput {
  const mids = Array.from({ length: width }, (_, i) => ({ id: `m${i}`, type: 'tool_call' as const, tool: 'noop' }));
  return {
    name: `fan-${width}`,
    nodes: [{ id: 'start', type: 'parallel' }, ...mids, { id: 'end', type: 'join' }],
    edges: [...mids.map((m) => ({ from: 'start', to: m.id })), ...mids.map((m) => ({ from: m.id, to: 'end' }))],
  };
}

/** The five-node benchmark shape: a → (b, c, d) → join, with the given node bodies for a–d. */
export function fiveNodes(body: (id: 'a' | 'b' | 'c' | 'd') => Record<string, unknown>): WorkflowDefinitionInput {
  const ids = ['a', 'b', 'c', 'd'] as const;
  return {
    name: 'five',
    nodes: [
      ...ids.map((id) => ({ id, ...body(id) }) as NonNullable<WorkflowDefinitionInput['nodes']>[number]),
      { id: 'e', type: 'join' },
    ],
    edges: [
      { from: 'a', to: 'b' },
      { from: 'a', to: 'c' },
      { from: 'a', to: 'd' },
      { from: 'b', to: 'e' },
      { from: 'c', to: 'e' },
      { from: 'd', to: 'e' },
    ],
  };
}
