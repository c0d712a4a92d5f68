/**
 * The builder's run data: which run's data the suggestions and previews use (the newest finished
 * run, or one the user pinned — remembered per workflow in this browser), and the panel that
 * tests the selected node or runs up to it in a scratch run (docs/console.md).
 */
import { useCallback, useEffect, useState } from 'react';
import type { RunHistoryItem, RunRecord, TestRunResult } from '../api/types.ts';
import { useApi } from '../app/context.ts';
import { formatTime, shortRunId } from '../app/format.ts';
import { definitionFromDoc } from '../editor/convert.ts';
import type { DraftNode, EditorDoc } from '../editor/doc.ts';
import { previewText, type RunData, runDataFromRecord, withTestResult } from '../editor/run-data.ts';
import { ancestorsOf } from '../editor/suggestions.ts';
import { ErrorBanner, StatusBadge } from './Feedback.tsx';
import { Link } from './Layout.tsx';

const pinKey = (workflowId: string) => `trellis.pinnedRun.${workflowId}`;
const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

export interface RunDataState {
  data: RunData | undefined;
  runs: RunHistoryItem[];
  pinned: string | undefined;
  loading: boolean;
  error: unknown;
  pin(runId: string | undefined): void;
  reload(): void;
  /** Lays a test run's executed nodes over the data. */
  applyTest(record: RunRecord): void;
}

export function useRunData(workflowId: string | undefined): RunDataState {
  const api = useApi();
  const [pinned, setPinned] = useState<string | undefined>(() =>
    workflowId ? (window.localStorage.getItem(pinKey(workflowId)) ?? undefined) : undefined,
  );
  const [data, setData] = useState<RunData | undefined>(undefined);
  const [runs, setRuns] = useState<RunHistoryItem[]>([]);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [tick, setTick] = useState(0);

  // biome-ignore lint/correctness/useExhaustiveDependencies: tick forces a reload
  useEffect(() => {
    if (!workflowId) return;
    let live = true;
    setLoading(true);
    (async () => {
      const page = await api.listAllRuns({ workflowId, limit: 20 });
      const target = pinned ?? (page.items.find((r) => FINISHED.has(r.status)) ?? page.items[0])?.id;
      const rec = target === undefined ? undefined : await api.getRun(target);
      if (!live) return;
      setRuns(page.items);
      setData(rec ? runDataFromRecord(rec) : undefined);
      setError(undefined);
    })()
      .catch((err: unknown) => live && setError(err))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [api, workflowId, pinned, tick]);

  const pin = useCallback(
    (runId: string | undefined) => {
      if (!workflowId) return;
      if (runId === undefined) window.localStorage.removeItem(pinKey(workflowId));
      else window.localStorage.setItem(pinKey(workflowId), runId);
      setPinned(runId);
    },
    [workflowId],
  );
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const applyTest = useCallback((record: RunRecord) => setData((d) => withTestResult(d, record)), []);
  return { data, runs, pinned, loading, error, pin, reload, applyTest };
}

function runLabel(r: Pick<RunHistoryItem, 'id' | 'status' | 'createdAt'>): string {
  return `${shortRunId(r.id)} · ${r.status} · ${formatTime(r.createdAt)}`;
}

export function RunDataBar({ state }: { state: RunDataState }) {
  const { data, runs, pinned } = state;
  const current = data ? runs.find((r) => r.id === data.runId) : undefined;
  return (
    <section className="run-data" aria-label="Run data">
      <div className="row">
        <label className="grow">
          <span className="small">Data from</span>
          <select
            value={pinned ?? ''}
            onChange={(e) => state.pin(e.target.value || undefined)}
            aria-label="Run whose data the builder uses"
          >
            <option value="">the newest finished run</option>
            {runs.map((r) => (
              <option key={r.id} value={r.id}>
                {runLabel(r)}
              </option>
            ))}
            {pinned && !runs.some((r) => r.id === pinned) && <option value={pinned}>{shortRunId(pinned)} (pinned)</option>}
          </select>
        </label>
        <button type="button" onClick={state.reload} title="Read the runs again" aria-label="Refresh run data">
          ↻
        </button>
      </div>
      <p className="small muted" role="status">
        {state.loading && !data
          ? 'Loading run data…'
          : data
            ? `${pinned ? 'Pinned' : 'Newest'} run ${shortRunId(data.runId)}${current ? ` (${current.status})` : ''}: suggestions and previews use its data${data.tested?.length ? `, with test results for ${data.tested.join(', ')}` : ''}.`
            : 'No run yet: run the workflow (or test a node) to get suggestions and previews from real data.'}
        {data && !data.scratch && (
          <>
            {' '}
            <Link to={`/runs/${encodeURIComponent(data.runId)}`}>Open run</Link>
          </>
        )}
      </p>
      <ErrorBanner error={state.error} onRetry={state.reload} />
    </section>
  );
}

/** "Test this node" and "Run up to here" for the selected node, with the node's data. */
export function NodeTestPanel({
  workflowId,
  doc,
  node,
  state,
  valid,
}: {
  workflowId: string | undefined;
  doc: EditorDoc;
  node: DraftNode;
  state: RunDataState;
  valid: boolean;
}) {
  const api = useApi();
  const [busy, setBusy] = useState<'node' | 'upTo' | undefined>(undefined);
  const [result, setResult] = useState<TestRunResult | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const hasUpstream = ancestorsOf(node.id, doc.edges).size > 0;
  const output = state.data && node.id in state.data.outputs ? state.data.outputs[node.id] : undefined;
  const status = state.data?.statuses[node.id];

  async function test(mode: 'node' | 'upTo') {
    if (!workflowId) return;
    setBusy(mode);
    setError(undefined);
    try {
      const body: Parameters<typeof api.testNode>[1] = { node: node.id, mode, definition: definitionFromDoc(doc) };
      if (state.data && !state.data.scratch) body.fromRun = state.data.runId;
      let r = await api.testNode(workflowId, body);
      while (!r.finished) {
        await new Promise((res) => setTimeout(res, 1000));
        r = { ...r, ...(await api.getTestRun(workflowId, r.id)) };
      }
      setResult(r);
      state.applyTest(r.record);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(undefined);
    }
  }

  const tested = result?.record.nodes[node.id];
  const reason = !workflowId ? 'Save the workflow first' : !valid ? 'Fix the problems first' : undefined;
  return (
    <section className="node-test" aria-label="Test this node">
      <h3>Data and tests</h3>
      {status && (
        <p className="small">
          In run {shortRunId(state.data!.runId)}: <StatusBadge status={status} />
          {output !== undefined && <code className="preview-block">{previewText(output, 400)}</code>}
        </p>
      )}
      <div className="row">
        <button
          type="button"
          onClick={() => void test('node')}
          disabled={busy !== undefined || reason !== undefined || (hasUpstream && !state.data)}
          title={
            reason ??
            (hasUpstream && !state.data
              ? 'Needs a finished run for the upstream data: run the workflow, or run up to here'
              : 'Run only this node (the draft as it is), reusing the upstream outputs of the run above; history is not touched')
          }
        >
          {busy === 'node' ? 'Testing…' : 'Test this node'}
        </button>
        <button
          type="button"
          onClick={() => void test('upTo')}
          disabled={busy !== undefined || reason !== undefined}
          title={reason ?? "Run this node and everything upstream of it, with the run's input; history is not touched"}
        >
          {busy === 'upTo' ? 'Running…' : 'Run up to here'}
        </button>
      </div>
      <ErrorBanner error={error} />
      {result && (
        <div className="test-result" role="status" aria-label="Test result">
          <p className="small">
            Test run <code>{shortRunId(result.id)}</code>: <StatusBadge status={result.record.status} />
            {result.fromRun && <> · upstream reused from {shortRunId(result.fromRun)}</>}
          </p>
          {result.note && <p className="small muted">{result.note}</p>}
          {tested?.status === 'succeeded' && <pre className="code small">{JSON.stringify(tested.output, null, 2)}</pre>}
          {tested?.error && (
            <p className="field-error small">
              <code>{tested.error.code}</code> {tested.error.message}
            </p>
          )}
          {!tested && result.record.error && (
            <p className="field-error small">
              <code>{result.record.error.code}</code> {result.record.error.message}
            </p>
          )}
        </div>
      )}
    </section>
  );
}
