// @vitest-environment happy-dom
/**
 * One duration definition everywhere: a real run (real engine, SQLite file) with a slow tool and
 * a gate; the attempt row of the node inspector, the event log and the run record's attempt
 * timestamps must all show the same duration for each attempt, and the run header's definition
 * (startedAt → finishedAt) must match the record's.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanup, render, within } from '@testing-library/react';
import { createEngine, createExecutorResolver } from '@trellis/runtime';
import { createWorkflow, createWorkflowResolver, openSqlite, SqliteRunStore } from '@trellis/store';
import { afterEach, describe, expect, it } from 'vitest';
import { formatDuration } from '../src/app/format.ts';
import { EventLog } from '../src/components/EventLog.tsx';
import { NodeRunInspector } from '../src/components/NodeRunInspector.tsx';
import { attemptDurationsBySeq, isoMs, recordRunDurationMs, runDurationMs } from '../src/run/durations.ts';
import { applyEvents, initialRunView } from '../src/run/run-state.ts';
import { buildTimeline } from '../src/run/timeline.ts';

afterEach(cleanup);

const definition = {
  name: 'durations',
  nodes: [
    { id: 'work', type: 'tool_call', tool: 'test.sleep', input: {} },
    { id: 'approve', type: 'human_gate', prompt: 'Go?' },
  ],
  edges: [{ from: 'work', to: 'approve' }],
};

describe('durations', () => {
  it('the attempt row, the event log and the record agree on every attempt; the run header on the run', async () => {
    const handle = await openSqlite(join(mkdtempSync(join(tmpdir(), 'trellis-dur-')), 't.db'));
    const engine = createEngine({
      store: new SqliteRunStore(handle),
      executors: createExecutorResolver({
        tools: {
          'test.sleep': {
            async execute() {
              await new Promise((r) => setTimeout(r, 120));
              return { kind: 'succeeded', output: { ok: true } };
            },
          },
        },
      }),
      pollMs: 20,
      workflows: createWorkflowResolver(handle.db),
    });
    try {
      await engine.whenReady();
      const wf = await createWorkflow(handle.db, { name: 'durations', definition, owner: 'admin' });
      const { runId } = await engine.startRun({ workflowId: wf.id, version: 1, input: {} });
      await engine.waitForRun(runId, { orWaiting: true });
      await new Promise((r) => setTimeout(r, 300)); // the gate waits a while: it counts in its attempt
      await engine.decideGate(runId, 'approve', { approved: true, by: 'admin' });
      const record = await engine.waitForRun(runId);
      expect(record.status).toBe('succeeded');
      const events = await engine.listEvents(runId, 0);
      const view = applyEvents(initialRunView(['work', 'approve']), events);
      const fromLog = attemptDurationsBySeq(events);
      const endSeq = (node: string) => events.find((e) => e.type === 'node.succeeded' && e.nodeId === node)?.seq ?? -1;

      for (const node of ['work', 'approve']) {
        const stored = record.nodes[node]?.attempts[0];
        const recordMs = (isoMs(stored?.finishedAt) ?? Number.NaN) - (isoMs(stored?.startedAt) ?? Number.NaN);
        const span = view.nodes[node]?.attempts[0];
        expect(span?.end).toBeDefined();
        expect((span?.end ?? 0) - (span?.start ?? 0)).toBe(recordMs);
        expect(fromLog.get(endSeq(node))).toBe(recordMs);
        // What the pages print: the inspector's attempt row and the event log's row.
        const text = formatDuration(recordMs);
        const inspector = render(<NodeRunInspector nodeId={node} live={view.nodes[node]} record={record.nodes[node]} />);
        expect(inspector.container.textContent).toContain(`attempt 1: succeeded, ${text}`);
        inspector.unmount();
        const log = render(<EventLog events={events} />);
        const row = log.container.querySelector(`tr[data-seq="${endSeq(node)}"]`) as HTMLElement;
        expect(within(row).getByText(`attempt 1, ${text}`)).toBeTruthy();
        log.unmount();
      }
      // The gate's attempt includes its wait for the decision.
      expect(fromLog.get(endSeq('approve'))).toBeGreaterThanOrEqual(250);
      expect(fromLog.get(endSeq('work'))).toBeGreaterThanOrEqual(100);
      // The run: the header (live view) and the runs list (record) use startedAt → finishedAt.
      const now = Date.now();
      expect(runDurationMs(view.startedAt, view.finishedAt, now)).toBe(recordRunDurationMs(record, now));
      expect(buildTimeline(view, ['work', 'approve'], now).durationMs).toBe(recordRunDurationMs(record, now));
    } finally {
      await engine.shutdown(0);
      await handle.close();
    }
  });
});
