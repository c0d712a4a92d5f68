/**
 * Several engines on one throwaway PostgreSQL, as several workers and servers would be.
 */
import type { Executor, WorkflowDefinitionInput } from '@trellis/core';
import { createWorkflow, createWorkflowResolver, openStore, type Store } from '@trellis/store';
import { type Clock, createEngine, createExecutorResolver, type RunnerEngine } from '../src/index.ts';
import type { EngineLogger } from '../src/runner/engine.ts';

export interface PgNode {
  store: Store;
  engine: RunnerEngine;
  close(): Promise<void>;
}

export async function pgNode(
  url: string,
  options: {
    tools?: Record<string, Executor>;
    execute?: boolean;
    leaseMs?: number;
    clock?: Clock;
    workerId?: string;
    claimBatch?: number;
    commitHoldMs?: number;
    logger?: EngineLogger;
  } = {},
): Promise<PgNode> {
  const store = await openStore(url);
  const engine = createEngine({
    store: store.runs,
    executors: createExecutorResolver({ tools: options.tools ?? {} }),
    workflows: createWorkflowResolver(store.db),
    leasing: {
      store: store.leases!,
      leaseMs: options.leaseMs ?? 2000,
      claimIntervalMs: 100,
      execute: options.execute ?? true,
      claimBatch: options.claimBatch ?? 20,
    },
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.workerId ? { workerId: options.workerId } : {}),
    ...(options.commitHoldMs !== undefined ? { commitHoldMs: options.commitHoldMs } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    random: () => 0.5,
  });
  await engine.whenReady();
  return {
    store,
    engine,
    async close() {
      await engine.shutdown(0);
      await store.close();
    },
  };
}

export async function saveWorkflow(store: Store, def: WorkflowDefinitionInput): Promise<string> {
  return (await createWorkflow(store.db, { name: def.name, definition: def, owner: 'tester' })).id;
}

/** The five-node shape: a → (b, c, d) → join e, with the given bodies for a–d. */
export function fiveNodeGraph(body: (id: 'a' | 'b' | 'c' | 'd') => Record<string, unknown>): WorkflowDefinitionInput {
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

/** Five tool nodes calling `tool` (b binds a's output). */
export function fiveNodes(tool: string): WorkflowDefinitionInput {
  return fiveNodeGraph((id) => ({ type: 'tool_call', tool, ...(id === 'b' ? { input: { from: '$a.by' } } : {}) }));
}
