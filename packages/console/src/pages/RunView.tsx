/**
 * The live run view: the graph coloured by node status, the timeline, the event log, the
 * node inspector, gate decisions and cancel. Events arrive over the WebSocket (RunStream) and
 * are folded by the pure reducer in run/run-state.ts; the run record is re-read when a node
 * settles, for inputs and outputs the events do not carry.
 */
import { isTerminalRunStatus, type RunRecord, type WorkflowDefinition } from '@trellis/core';
import { Background, Controls, ReactFlow, ReactFlowProvider } from '@xyflow/react';
import { useEffect, useMemo, useRef, useState } from 'react';
import { RunStream, type StreamState } from '../api/run-stream.ts';
import { useApi } from '../app/context.ts';
import { formatCost, formatDuration, formatJson, formatTime, shortRunId } from '../app/format.ts';
import { navigate } from '../app/navigation.ts';
import { useTheme } from '../app/theme.ts';
import { EventLog } from '../components/EventLog.tsx';
import { ErrorBanner, Loading, StatusBadge } from '../components/Feedback.tsx';
import { EdgeObstacles, edgeTypes, obstacleRects } from '../components/FlowEdge.tsx';
import {
  FIT_VIEW_OPTIONS,
  type FlowNodeType,
  LOW_DETAIL_ZOOM,
  nodeTypes,
  VISIBLE_ONLY_NODE_LIMIT,
} from '../components/FlowNode.tsx';
import { Gantt } from '../components/Gantt.tsx';
import { GatePanel } from '../components/GatePanel.tsx';
import { Link } from '../components/Layout.tsx';
import { NodeRunInspector } from '../components/NodeRunInspector.tsx';
import { docFromDefinition } from '../editor/convert.ts';
import type { EditorDoc } from '../editor/doc.ts';
import { FlowNodeCache, mapEdges, type NodeExtras } from '../editor/flow-mapping.ts';
import { NODE_HEIGHT, NODE_WIDTH } from '../editor/layout.ts';
import { recordRunDurationMs, runDurationMs } from '../run/durations.ts';
import { edgesTaken } from '../run/edges-taken.ts';
import { askerOf, questionsOf } from '../run/questions.ts';
import { applyEvents, initialRunView, type RunView as RunViewModel } from '../run/run-state.ts';
import { buildTimeline } from '../run/timeline.ts';

export function RunView({ runId }: { runId: string }) {
  const api = useApi();
  const [record, setRecord] = useState<RunRecord | undefined>(undefined);
  const [doc, setDoc] = useState<EditorDoc | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);

  useEffect(() => {
    let live = true;
    (async () => {
      try {
        const run = await api.getRun(runId);
        if (!live) return;
        setRecord(run);
        let def: WorkflowDefinition | undefined;
        try {
          def = (await api.getVersion(run.workflowId, run.version)).definition;
        } catch {
          def = (await api.getWorkflow(run.workflowId)).definition;
        }
        if (live) setDoc(docFromDefinition(def));
      } catch (err) {
        if (live) setError(err);
      }
    })();
    return () => {
      live = false;
    };
  }, [api, runId]);

  if (error) return <ErrorBanner error={error} />;
  if (!record || !doc) return <Loading what="the run" />;
  return (
    <ReactFlowProvider>
      <LiveRun initial={record} doc={doc} onRecord={setRecord} record={record} />
    </ReactFlowProvider>
  );
}

const NO_PROBLEMS = new Map<never, never>();

function LiveRun({
  initial,
  doc,
  record,
  onRecord,
}: {
  initial: RunRecord;
  doc: EditorDoc;
  record: RunRecord;
  onRecord: (r: RunRecord) => void;
}) {
  const api = useApi();
  const runId = initial.id;
  const [view, setView] = useState<RunViewModel>(() => initialRunView(doc.nodes.map((n) => n.id)));
  const [conn, setConn] = useState<StreamState>('connecting');
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const [tab, setTab] = useState<'timeline' | 'events'>('timeline');
  const [lowDetail, setLowDetail] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [now, setNow] = useState(() => Date.now());
  const streamRef = useRef<RunStream | undefined>(undefined);
  const cache = useRef(new FlowNodeCache());
  const refetch = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  useEffect(() => {
    const pending: Parameters<typeof applyEvents>[1][number][] = [];
    let frame = 0;
    const flush = () => {
      frame = 0;
      const batch = pending.splice(0);
      setView((v) => applyEvents(v, batch));
      // Re-read the record (inputs, outputs) shortly after nodes settle; coalesced.
      if (batch.some((e) => e.type.startsWith('node.') || e.type.startsWith('run.') || e.type.startsWith('gate.'))) {
        clearTimeout(refetch.current);
        refetch.current = setTimeout(() => {
          api.getRun(runId).then(onRecord, () => {});
        }, 250);
      }
    };
    const stream = new RunStream({
      url: (after) => api.runSocketUrl(runId, after),
      poll: (after) => api.listEvents(runId, after),
      onEvent: (e) => {
        pending.push(e);
        if (!frame) frame = requestAnimationFrame(flush);
      },
      onState: setConn,
    });
    streamRef.current = stream;
    stream.start();
    return () => {
      stream.close();
      cancelAnimationFrame(frame);
      clearTimeout(refetch.current);
    };
  }, [api, runId, onRecord]);

  const terminal = isTerminalRunStatus(view.status) && view.lastSeq > 0;
  useEffect(() => {
    if (terminal) return;
    const t = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(t);
  }, [terminal]);

  const extras = useMemo(() => {
    const m = new Map<string, NodeExtras>();
    for (const [id, n] of Object.entries(view.nodes)) {
      const reusedFrom = n.reusedFrom ?? record.nodes[id]?.reusedFrom;
      m.set(id, { status: n.status, attempts: n.attempts.length, ...(reusedFrom ? { reusedFrom } : {}) });
    }
    return m;
  }, [view.nodes, record.nodes]);
  const sel = useMemo(() => new Set(selected ? [selected] : []), [selected]);
  const flowNodes = useMemo(() => cache.current.map(doc.nodes, sel, NO_PROBLEMS, extras), [doc.nodes, sel, extras]);
  const [taken, setTaken] = useState<Map<number, boolean>>(() => new Map());
  useEffect(() => {
    let live = true;
    edgesTaken(doc.nodes, doc.edges, record.nodes, record.input).then(
      (t) => live && setTaken(t),
      () => {},
    );
    return () => {
      live = false;
    };
  }, [doc, record]);
  const nodeTypeMap = useMemo(() => new Map(doc.nodes.map((n) => [n.id, String(n.type)])), [doc.nodes]);
  const flowEdges = useMemo(
    () => mapEdges(doc.edges, new Set(), NO_PROBLEMS, taken, { nodeTypes: nodeTypeMap }),
    [doc.edges, taken, nodeTypeMap],
  );
  // Edges go round the nodes in their way (a taken edge is not drawn through a skipped node).
  const obstacles = useMemo(() => obstacleRects(doc.nodes, NODE_WIDTH, NODE_HEIGHT), [doc.nodes]);
  const theme = useTheme();
  const order = useMemo(() => doc.nodes.map((n) => n.id), [doc.nodes]);
  const timeline = useMemo(() => buildTimeline(view, order, now), [view, order, now]);

  const status = view.lastSeq > 0 ? view.status : record.status;
  const waiting = Object.entries(view.nodes).filter(([, n]) => n.status === 'waiting');

  async function cancel() {
    setError(undefined);
    try {
      await api.cancelRun(runId);
    } catch (err) {
      setError(err);
    }
  }

  /** Retries this run as a new one that reuses what succeeded, and opens it (docs/retry.md). */
  async function retry(from?: string[]) {
    setError(undefined);
    try {
      const r = await api.retryRun(runId, from ? { from } : {});
      navigate(`/runs/${encodeURIComponent(r.id)}`);
    } catch (err) {
      setError(err);
    }
  }

  const retryOf = view.retryOf ?? record.retryOf;
  const saved = Math.max(view.costSavedUsd, record.costSavedUsd ?? 0);

  return (
    <div className="runview">
      <div className="run-head">
        <h1>
          Run <code>{shortRunId(runId)}</code>
        </h1>
        <span role="status" aria-label="Run status" data-run-status={status}>
          <StatusBadge status={status} />
        </span>
        <Link to={`/workflows/${encodeURIComponent(record.workflowId)}`}>{doc.meta.name}</Link>
        <span className="muted">v{record.version}</span>
        <span className="muted">started {formatTime(record.startedAt ?? record.createdAt)}</span>
        {record.trigger && (
          <span className="muted" title="What started this run">
            by {record.trigger.type} <code>{record.trigger.id}</code>
            {record.trigger.type === 'schedule' ? ` (tick ${formatTime(record.trigger.tick)})` : ''}
          </span>
        )}
        <span className="muted">
          {formatDuration(
            view.startedAt !== undefined ? runDurationMs(view.startedAt, view.finishedAt, now) : recordRunDurationMs(record, now),
          )}
        </span>
        <span className="muted">cost {formatCost(Math.max(view.costUsd, record.costUsd))}</span>
        {saved > 0 && (
          <span className="saved" data-field="cost-saved" title="What reusing earlier results saved (not charged again)">
            saved {formatCost(saved)} by reuse
          </span>
        )}
        {record.parentRunId && (
          <p className="small" data-field="parent-run">
            Child run of{' '}
            <Link to={`/runs/${encodeURIComponent(record.parentRunId)}`}>
              <code>{shortRunId(record.parentRunId)}</code>
            </Link>{' '}
            (node <code>{record.parentNodeId}</code>
            {record.parentItem !== undefined ? `, item ${record.parentItem}` : ''})
          </p>
        )}
        {retryOf && (
          <span className="muted">
            retry of{' '}
            <Link to={`/runs/${encodeURIComponent(retryOf)}`}>
              <code>{shortRunId(retryOf)}</code>
            </Link>
          </span>
        )}
        {record.retries && record.retries.length > 0 && (
          <span className="muted">
            retried as{' '}
            {record.retries.map((id, i) => (
              <span key={id}>
                {i > 0 ? ', ' : ''}
                <Link to={`/runs/${encodeURIComponent(id)}`}>
                  <code>{shortRunId(id)}</code>
                </Link>
              </span>
            ))}
          </span>
        )}
        <span className="spacer" />
        <span className={`conn ${conn}`} role="status" aria-label="Connection">
          {conn === 'open' ? 'live' : conn === 'ended' ? 'finished' : conn}
        </span>
        <Link to={`/workflows/${encodeURIComponent(record.workflowId)}/runs`}>All runs</Link>
        {!isTerminalRunStatus(status) && (
          <button type="button" className="danger solid" onClick={cancel}>
            Cancel run
          </button>
        )}
        {(status === 'failed' || status === 'cancelled') && (
          <button
            type="button"
            className="solid"
            onClick={() => retry()}
            title="A new run that reuses every node that succeeded; the failed and cancelled ones run again"
          >
            Retry from failure
          </button>
        )}
      </div>
      <section className={lowDetail ? 'canvas low-detail' : 'canvas'} aria-label="Run graph">
        <EdgeObstacles.Provider value={obstacles}>
          <ReactFlow<FlowNodeType>
            nodes={flowNodes}
            edges={flowEdges}
            nodeTypes={nodeTypes}
            edgeTypes={edgeTypes}
            colorMode={theme}
            nodesDraggable={false}
            nodesConnectable={false}
            deleteKeyCode={null}
            onNodeClick={(_, n) => setSelected(n.id)}
            onPaneClick={() => setSelected(undefined)}
            fitView
            fitViewOptions={FIT_VIEW_OPTIONS}
            minZoom={0.05}
            onlyRenderVisibleElements={doc.nodes.length > VISIBLE_ONLY_NODE_LIMIT}
            onInit={(f) => setLowDetail(f.getZoom() < LOW_DETAIL_ZOOM)}
            onMove={(_, vp) => setLowDetail(vp.zoom < LOW_DETAIL_ZOOM)}
            proOptions={{ hideAttribution: true }}
          >
            <Background />
            <Controls showInteractive={false} />
          </ReactFlow>
        </EdgeObstacles.Provider>
      </section>
      <section className="bottom">
        <div className="tabs" role="tablist">
          <button type="button" role="tab" aria-selected={tab === 'timeline'} onClick={() => setTab('timeline')}>
            Timeline
          </button>
          <button type="button" role="tab" aria-selected={tab === 'events'} onClick={() => setTab('events')}>
            Events ({view.events.length})
          </button>
        </div>
        <div className="tabpanel" role="tabpanel">
          {tab === 'timeline' ? <Gantt timeline={timeline} onSelect={setSelected} /> : <EventLog events={view.events} />}
        </div>
      </section>
      <aside className="side" aria-label="Run details">
        <ErrorBanner error={error} />
        {waiting.map(([id, n]) => (
          <GatePanel
            key={id}
            runId={runId}
            nodeId={id}
            prompt={n.prompt ?? record.nodes[id]?.prompt}
            onDecided={() => setSelected(id)}
            asker={askerOf(doc.nodes.find((d) => d.id === id))}
          />
        ))}
        {selected ? (
          <NodeRunInspector
            nodeId={selected}
            live={view.nodes[selected]}
            record={record.nodes[selected]}
            questions={questionsOf(view.events, selected)}
            {...(isTerminalRunStatus(status) ? { onRerun: () => retry([selected]) } : {})}
          />
        ) : (
          <section aria-label="Run result">
            <h2>Run</h2>
            {(view.error ?? record.error) && <pre className="field-error">{formatJson(view.error ?? record.error)}</pre>}
            <h3 className="small">Input</h3>
            <pre>{formatJson(record.input)}</pre>
            <h3 className="small">Output</h3>
            <pre data-field="run-output">{formatJson(view.output ?? record.output)}</pre>
            <p className="muted small">Select a node to see its input, output, error and cost.</p>
          </section>
        )}
      </aside>
    </div>
  );
}
