/**
 * Test harness: a real SQLite file per test, a real engine, and a controllable clock.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Executor, RunEvent, WorkflowDefinitionInput } from '@trellis/core';
import {
  checkRunInvariants,
  createWorkflow,
  createWorkflowResolver,
  formatInvariantReport,
  openSqlite,
  type SqliteHandle,
  SqliteRunStore,
} from '@trellis/store';
import {
  type Clock,
  createEngine,
  createExecutorResolver,
  type EngineOptions,
  ManualClock,
  type RunnerEngine,
} from '../src/index.ts';

export interface Harness {
  handle: SqliteHandle;
  store: SqliteRunStore;
  engine: RunnerEngine;
  clock: Clock;
  dbPath: string;
  /** Saves a definition as a new workflow and returns its id. */
  save(def: WorkflowDefinitionInput): Promise<string>;
  /** Starts a run and waits until it is terminal (or waiting). */
  run(workflowId: string, input?: unknown, opts?: { orWaiting?: boolean }): ReturnType<RunnerEngine['waitForRun']>;
  events(runId: string): Promise<RunEvent[]>;
  close(): Promise<void>;
}

export async function harness(
  options: { tools?: Record<string, Executor>; clock?: Clock; dbPath?: string; engine?: Partial<EngineOptions> } = {},
): Promise<Harness> {
  const dbPath = options.dbPath ?? join(mkdtempSync(join(tmpdir(), 'trellis-rt-')), 'trellis.db');
  const handle = await openSqlite(dbPath);
  const store = new SqliteRunStore(handle);
  const clock = options.clock ?? undefined;
  const engine = createEngine({
    store,
    executors: createExecutorResolver({ tools: options.tools ?? {} }),
    ...(clock ? { clock } : {}),
    random: () => 0.5,
    workflows: createWorkflowResolver(handle.db),
    ...options.engine,
  });
  await engine.whenReady();
  const h: Harness = {
    handle,
    store,
    engine,
    clock: clock ?? new ManualClock(),
    dbPath,
    async save(def) {
      const { id } = await createWorkflow(handle.db, { name: def.name, definition: def, owner: 'tester' });
      return id;
    },
    async run(workflowId, input = {}, opts = {}) {
      const { runId } = await engine.startRun({ workflowId, version: 1, input });
      return engine.waitForRun(runId, opts);
    },
    events: (runId) => engine.listEvents(runId, 0, 100_000),
    async close() {
      await engine.shutdown(0);
      // Whatever the test did, every run it left satisfies the run invariants.
      const report = await checkRunInvariants(handle.db).finally(() => handle.close());
      if (!report.ok) throw new Error(formatInvariantReport(report));
    },
  };
  return h;
}

/** A tool executor from a function, counting its calls. */
export function tool(
  fn: (input: unknown, ctx: Parameters<Executor['execute']>[1]) => unknown | Promise<unknown>,
): Executor & { calls: number } {
  const t = {
    calls: 0,
    async execute(input: unknown, ctx: Parameters<Executor['execute']>[1]) {
      t.calls++;
      return { kind: 'succeeded' as const, output: await fn(input, ctx) };
    },
  };
  return t;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves with the first event (replayed or live) that matches. */
export function waitForEvent(
  engine: RunnerEngine,
  runId: string,
  match: (e: RunEvent) => boolean,
  timeoutMs = 10_000,
): Promise<RunEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.close();
      reject(new Error(`timed out waiting for an event on run ${runId}`));
    }, timeoutMs);
    const sub = engine.subscribe(runId, {
      after: 0,
      onEvent: (e) => {
        if (match(e)) {
          clearTimeout(timer);
          sub.close();
          resolve(e);
        }
      },
    });
  });
}
