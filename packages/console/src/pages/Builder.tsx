/**
 * The builder: palette, canvas, inspector. The document and its undo history live here; the
 * canvas is a view of the document and reports edits as change objects (editor/changes.ts).
 */
import type { ValidationError } from '@trellis/core';
import {
  Background,
  type Connection,
  Controls,
  type Edge,
  type EdgeChange,
  MiniMap,
  type NodeChange,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
} from '@xyflow/react';
import { type DragEvent, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ApiError } from '../api/problem.ts';
import { useApi } from '../app/context.ts';
import { navigate } from '../app/navigation.ts';
import { useAsync } from '../app/use-async.ts';
import { EdgeInspector } from '../components/EdgeInspector.tsx';
import { ErrorBanner, Loading } from '../components/Feedback.tsx';
import { FIT_VIEW_OPTIONS, type FlowNodeType, LOW_DETAIL_ZOOM, nodeTypes } from '../components/FlowNode.tsx';
import { Link } from '../components/Layout.tsx';
import { NodeInspector } from '../components/NodeInspector.tsx';
import { DRAG_MIME, Palette, type PaletteItem } from '../components/Palette.tsx';
import { StartRunForm } from '../components/StartRunForm.tsx';
import { TriggersPanel } from '../components/TriggersPanel.tsx';
import { VersionsPanel } from '../components/VersionsPanel.tsx';
import { WorkflowPanel } from '../components/WorkflowPanel.tsx';
import type { EditorChange } from '../editor/changes.ts';
import { definitionFromDoc, docFromDefinition, docFromJson } from '../editor/convert.ts';
import { type EditorDoc, edgeIndexOf, emptyDoc, freshNodeId } from '../editor/doc.ts';
import { FlowNodeCache, mapEdges } from '../editor/flow-mapping.ts';
import { usableSecrets } from '../editor/headers-text.ts';
import {
  applyTransient,
  canRedo,
  canUndo,
  checkpoint,
  commit,
  createHistory,
  dropEmptyCheckpoint,
  type History,
  redo,
  undo,
} from '../editor/history.ts';
import { layoutPositions, NODE_HEIGHT, NODE_WIDTH } from '../editor/layout.ts';
import { type PinnedProblems, pin, validateDoc } from '../editor/validate.ts';

export function Builder({ workflowId }: { workflowId: string | undefined }) {
  return (
    <ReactFlowProvider>
      <BuilderLoader workflowId={workflowId} />
    </ReactFlowProvider>
  );
}

function BuilderLoader({ workflowId }: { workflowId: string | undefined }) {
  const api = useApi();
  const wf = useAsync(async () => (workflowId ? api.getWorkflow(workflowId) : undefined), [api, workflowId]);
  if (workflowId && wf.loading) return <Loading what="the workflow" />;
  if (wf.error) return <ErrorBanner error={wf.error} onRetry={wf.reload} />;
  let initial: EditorDoc;
  try {
    initial = wf.data ? docFromDefinition(wf.data.definition) : emptyDoc();
  } catch (err) {
    return <ErrorBanner error={err} />;
  }
  return <BuilderEditor workflowId={workflowId} version={wf.data?.version} initial={initial} />;
}

const EMPTY_SET = new Set<never>();

function BuilderEditor({
  workflowId,
  version,
  initial,
}: {
  workflowId: string | undefined;
  version: number | undefined;
  initial: EditorDoc;
}) {
  const api = useApi();
  const flow = useReactFlow();
  const [hist, setHist] = useState<History>(() => createHistory(initial));
  const [selNodes, setSelNodes] = useState<ReadonlySet<string>>(EMPTY_SET);
  const [selEdges, setSelEdges] = useState<ReadonlySet<number>>(EMPTY_SET);
  const [structRev, setStructRev] = useState(0);
  const [problems, setProblems] = useState<PinnedProblems>(() => validateDoc(initial));
  const [serverErrors, setServerErrors] = useState<ValidationError[] | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [info, setInfo] = useState<string | undefined>(undefined);
  const [saving, setSaving] = useState(false);
  const [panel, setPanel] = useState<'none' | 'versions' | 'run' | 'triggers'>('none');
  const [lowDetail, setLowDetail] = useState(false);
  const [savedDoc, setSavedDoc] = useState<EditorDoc | undefined>(workflowId ? initial : undefined);
  const [savedVersion, setSavedVersion] = useState(version);
  const fileRef = useRef<HTMLInputElement>(null);
  const cache = useRef(new FlowNodeCache());
  const doc = hist.present;

  const agents = useAsync(() => api.listAgents().catch(() => []), [api]);
  const tools = useAsync(() => api.listTools().catch(() => []), [api]);
  // For `workflow` nodes: the workflows the user can see (the server checks the runner role at save).
  const workflows = useAsync(
    () =>
      api
        .listWorkflows({ limit: 200 })
        .then((p) => p.items)
        .catch(() => []),
    [api],
  );
  const secrets = useAsync(
    () =>
      api
        .listSecrets()
        .then((r) => r.items)
        .catch(() => []),
    [api],
  );

  /** Every edit goes through here: one undo step, and re-validation unless only positions moved. */
  const dispatch = useCallback((change: EditorChange) => {
    setHist((h) => commit(h, change));
    if (change.kind !== 'move_nodes') setStructRev((r) => r + 1);
    if (change.kind === 'remove') {
      setSelNodes(EMPTY_SET);
      setSelEdges(EMPTY_SET);
    }
    if (change.kind === 'rename_node') setSelNodes(new Set([change.to]));
    setInfo(undefined);
  }, []);

  // Validate off the typing path: debounced, and only when the graph's content changed.
  // biome-ignore lint/correctness/useExhaustiveDependencies: structRev stands for the document's content
  useEffect(() => {
    const t = setTimeout(() => {
      setProblems(validateDoc(hist.present));
      setServerErrors(undefined);
    }, 120);
    return () => clearTimeout(t);
  }, [structRev]);

  const shown = useMemo(() => (serverErrors ? pin(doc, serverErrors, []) : problems), [serverErrors, problems, doc]);
  const flowNodes = useMemo(() => cache.current.map(doc.nodes, selNodes, shown.byNode), [doc.nodes, selNodes, shown]);
  const flowEdges = useMemo(() => mapEdges(doc.edges, selEdges, shown.byEdge), [doc.edges, selEdges, shown]);

  const onNodesChange = useCallback((changes: NodeChange<FlowNodeType>[]) => {
    const positions: Record<string, { x: number; y: number }> = {};
    let moved = false;
    let sel: Set<string> | undefined;
    for (const c of changes) {
      if (c.type === 'position' && c.position) {
        positions[c.id] = c.position;
        moved = true;
      } else if (c.type === 'select') {
        sel ??= new Set<string>();
        if (c.selected) sel.add(c.id);
      }
    }
    if (moved) setHist((h) => applyTransient(h, { kind: 'move_nodes', positions }));
    if (sel) {
      const next = sel;
      setSelNodes((prev) => {
        const merged = new Set(prev);
        for (const c of changes) if (c.type === 'select') c.selected ? merged.add(c.id) : merged.delete(c.id);
        return merged.size === 0 && next.size === 0 ? EMPTY_SET : merged;
      });
    }
  }, []);

  const onEdgesChange = useCallback((changes: EdgeChange[]) => {
    if (!changes.some((c) => c.type === 'select')) return;
    setSelEdges((prev) => {
      const merged = new Set(prev);
      for (const c of changes) {
        if (c.type !== 'select') continue;
        const i = edgeIndexOf(c.id);
        if (i === undefined) continue;
        if (c.selected) merged.add(i);
        else merged.delete(i);
      }
      return merged;
    });
  }, []);

  const onConnect = useCallback(
    (c: Connection) => {
      if (!c.source || !c.target || c.source === c.target) return;
      if (doc.edges.some((e) => e.from === c.source && e.to === c.target)) return;
      dispatch({ kind: 'add_edge', edge: { from: c.source, to: c.target } });
    },
    [doc.edges, dispatch],
  );

  const onDelete = useCallback(
    ({ nodes, edges }: { nodes: FlowNodeType[]; edges: Edge[] }) => {
      const edgeIndexes = edges.map((e) => edgeIndexOf(e.id)).filter((i): i is number => i !== undefined);
      if (nodes.length || edgeIndexes.length) dispatch({ kind: 'remove', nodeIds: nodes.map((n) => n.id), edgeIndexes });
    },
    [dispatch],
  );

  const addItem = useCallback(
    (item: PaletteItem, at?: { x: number; y: number }) => {
      const id = freshNodeId(
        hist.present,
        item.type === 'agent_call' && typeof item.fields.skill === 'string' ? item.fields.skill : item.type,
      );
      let position = at;
      if (!position) {
        const box = document.querySelector('.builder .canvas')?.getBoundingClientRect();
        const center = box ? { x: box.left + box.width / 2, y: box.top + box.height / 2 } : { x: 400, y: 300 };
        position = flow.screenToFlowPosition(center);
        position = {
          x: position.x - NODE_WIDTH / 2 + (hist.present.nodes.length % 5) * 12,
          y: position.y - NODE_HEIGHT / 2 + (hist.present.nodes.length % 5) * 12,
        };
      }
      dispatch({ kind: 'add_node', node: { id, type: item.type, ...structuredClone(item.fields), position } });
      setSelNodes(new Set([id]));
      setSelEdges(EMPTY_SET);
    },
    [hist.present, flow, dispatch],
  );

  function onDrop(e: DragEvent) {
    const raw = e.dataTransfer.getData(DRAG_MIME);
    if (!raw) return;
    e.preventDefault();
    const item = JSON.parse(raw) as PaletteItem;
    const p = flow.screenToFlowPosition({ x: e.clientX, y: e.clientY });
    addItem(item, { x: p.x - NODE_WIDTH / 2, y: p.y - NODE_HEIGHT / 2 });
  }

  const doUndo = useCallback(() => {
    setHist(undo);
    setStructRev((r) => r + 1);
  }, []);
  const doRedo = useCallback(() => {
    setHist(redo);
    setStructRev((r) => r + 1);
  }, []);

  // Ctrl/Cmd+Z, Ctrl+Shift+Z, Ctrl+Y, outside text fields (which keep their own undo).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable)) return;
      if (!(e.ctrlKey || e.metaKey)) return;
      const k = e.key.toLowerCase();
      if (k === 'z' && !e.shiftKey) {
        e.preventDefault();
        doUndo();
      } else if ((k === 'z' && e.shiftKey) || k === 'y') {
        e.preventDefault();
        doRedo();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [doUndo, doRedo]);

  function autoLayout() {
    dispatch({ kind: 'move_nodes', positions: layoutPositions(doc.nodes, doc.edges) });
    requestAnimationFrame(() => flow.fitView({ ...FIT_VIEW_OPTIONS, duration: 200 }));
  }

  function exportJson() {
    const blob = new Blob([`${JSON.stringify(definitionFromDoc(doc), null, 2)}\n`], { type: 'application/json' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${doc.meta.name || 'workflow'}.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }

  async function importFile(file: File) {
    setError(undefined);
    try {
      const next = docFromJson(await file.text());
      dispatch({ kind: 'replace', doc: next });
      setInfo(`Imported ${file.name}: ${next.nodes.length} nodes. Save to keep it.`);
      requestAnimationFrame(() => flow.fitView(FIT_VIEW_OPTIONS));
    } catch (err) {
      setError(err);
    }
  }

  async function save() {
    setError(undefined);
    setInfo(undefined);
    const local = validateDoc(doc);
    setProblems(local);
    if (local.errors.length > 0) {
      setError(
        new Error(
          `Fix the ${local.errors.length} problem${local.errors.length > 1 ? 's' : ''} listed on the right before saving.`,
        ),
      );
      return;
    }
    setSaving(true);
    try {
      const def = definitionFromDoc(doc) as never;
      if (workflowId) {
        const saved = await api.saveWorkflow(workflowId, def);
        setSavedDoc(doc);
        setSavedVersion(saved.version);
        setInfo(`Saved as version ${saved.version}.`);
      } else {
        const created = await api.createWorkflow(def);
        navigate(`/workflows/${encodeURIComponent(created.id)}`, true);
      }
    } catch (err) {
      if (err instanceof ApiError && err.errors.length) setServerErrors(err.errors);
      setError(err);
    } finally {
      setSaving(false);
    }
  }

  async function startRun(input: unknown) {
    if (!workflowId) return;
    setError(undefined);
    try {
      const run = await api.startRun(workflowId, input);
      navigate(`/runs/${encodeURIComponent(run.id)}`);
    } catch (err) {
      setError(err);
    }
  }

  function selectProblem(p: ValidationError) {
    const m = /^\/edges\/(\d+)/.exec(p.path ?? '');
    if (m) {
      setSelEdges(new Set([Number(m[1])]));
      setSelNodes(EMPTY_SET);
      return;
    }
    const nm = /^\/nodes\/(\d+)/.exec(p.path ?? '');
    const id = nm ? doc.nodes[Number(nm[1])]?.id : p.nodes?.[0];
    if (id) {
      setSelNodes(new Set([id]));
      setSelEdges(EMPTY_SET);
      const n = doc.nodes.find((x) => x.id === id);
      if (n)
        flow.setCenter(n.position.x + NODE_WIDTH / 2, n.position.y + NODE_HEIGHT / 2, { duration: 200, zoom: flow.getZoom() });
    }
  }

  const selectedNode = selNodes.size === 1 && selEdges.size === 0 ? doc.nodes.find((n) => selNodes.has(n.id)) : undefined;
  const selectedEdgeIndex = selEdges.size === 1 && selNodes.size === 0 ? [...selEdges][0] : undefined;
  const selectedEdge = selectedEdgeIndex === undefined ? undefined : doc.edges[selectedEdgeIndex];
  const dirty = savedDoc ? savedDoc !== doc : doc.nodes.length > 0;

  // Leaving the page (reload, close) with unsaved edits asks first.
  useEffect(() => {
    if (!dirty) return;
    const onBeforeUnload = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener('beforeunload', onBeforeUnload);
    return () => window.removeEventListener('beforeunload', onBeforeUnload);
  }, [dirty]);

  return (
    <div className="builder">
      <div className="toolbar" role="toolbar" aria-label="Builder">
        <input
          className="name"
          aria-label="Workflow name"
          value={doc.meta.name}
          onChange={(e) => dispatch({ kind: 'set_meta', patch: { name: e.target.value } })}
        />
        {savedVersion !== undefined && <span className="muted">v{savedVersion}</span>}
        <button type="button" onClick={doUndo} disabled={!canUndo(hist)} title="Undo (Ctrl+Z)">
          Undo
        </button>
        <button type="button" onClick={doRedo} disabled={!canRedo(hist)} title="Redo (Ctrl+Shift+Z)">
          Redo
        </button>
        <button type="button" onClick={autoLayout} disabled={doc.nodes.length === 0}>
          Auto-layout
        </button>
        <button type="button" onClick={() => fileRef.current?.click()}>
          Import JSON
        </button>
        <input
          ref={fileRef}
          type="file"
          accept="application/json,.json"
          hidden
          aria-label="Import a definition file"
          onChange={(e) => {
            const f = e.target.files?.[0];
            if (f) void importFile(f);
            e.target.value = '';
          }}
        />
        <button type="button" onClick={exportJson}>
          Export JSON
        </button>
        <span className="spacer" />
        <span className={shown.errors.length ? 'field-error' : 'muted'} role="status" aria-live="polite">
          {shown.errors.length ? `${shown.errors.length} problem${shown.errors.length > 1 ? 's' : ''}` : 'Valid'}
        </span>
        {workflowId && (
          <>
            <button
              type="button"
              onClick={() => setPanel(panel === 'versions' ? 'none' : 'versions')}
              aria-expanded={panel === 'versions'}
            >
              Versions
            </button>
            <Link to={`/workflows/${encodeURIComponent(workflowId)}/runs`}>Runs</Link>
            <button
              type="button"
              onClick={() => setPanel(panel === 'run' ? 'none' : 'run')}
              disabled={dirty}
              title={dirty ? 'Save first: runs use a saved version' : undefined}
            >
              Run
            </button>
          </>
        )}
        <button
          type="button"
          onClick={() => setPanel(panel === 'triggers' ? 'none' : 'triggers')}
          aria-expanded={panel === 'triggers'}
          title="Schedules and webhooks that start runs"
        >
          Triggers
          {Array.isArray((doc.meta as { triggers?: unknown }).triggers) &&
            ` (${(doc.meta as { triggers: unknown[] }).triggers.length})`}
        </button>
        <button type="button" className="primary" onClick={save} disabled={saving}>
          {saving ? 'Saving…' : workflowId ? 'Save new version' : 'Save'}
        </button>
      </div>
      <Palette agents={agents.data ?? []} tools={tools.data ?? []} onAdd={(i) => addItem(i)} />
      <section
        className={lowDetail ? 'canvas low-detail' : 'canvas'}
        aria-label="Canvas"
        onDragOver={(e) => {
          e.preventDefault();
          e.dataTransfer.dropEffect = 'move';
        }}
        onDrop={onDrop}
      >
        <ReactFlow<FlowNodeType>
          nodes={flowNodes}
          edges={flowEdges}
          nodeTypes={nodeTypes}
          onNodesChange={onNodesChange}
          onEdgesChange={onEdgesChange}
          onConnect={onConnect}
          onDelete={onDelete}
          onNodeDragStart={() => setHist(checkpoint)}
          onNodeDragStop={() => setHist(dropEmptyCheckpoint)}
          isValidConnection={(c) => c.source !== c.target}
          deleteKeyCode={['Delete', 'Backspace']}
          fitView={initial.nodes.length > 0}
          fitViewOptions={FIT_VIEW_OPTIONS}
          defaultViewport={{ x: 0, y: 0, zoom: 1 }}
          minZoom={0.05}
          onInit={(f) => setLowDetail(f.getZoom() < LOW_DETAIL_ZOOM)}
          onMove={(_, vp) => setLowDetail(vp.zoom < LOW_DETAIL_ZOOM)}
          proOptions={{ hideAttribution: true }}
        >
          <Background />
          <Controls />
          {doc.nodes.length <= 300 && <MiniMap pannable zoomable ariaLabel="Mini map" />}
        </ReactFlow>
        {doc.nodes.length === 0 && (
          <div className="canvas-empty">
            <p>Drag a node from the palette, or press one to add it.</p>
          </div>
        )}
      </section>
      <aside className="side" aria-label="Inspector">
        <ErrorBanner error={error} />
        {info && (
          <p className="banner" role="status">
            {info}
          </p>
        )}
        {selectedNode ? (
          <NodeInspector
            key={selectedNode.id}
            node={selectedNode}
            doc={doc}
            problems={shown.byNode.get(selectedNode.id) ?? []}
            agents={agents.data ?? []}
            tools={tools.data ?? []}
            workflows={(workflows.data ?? []).filter((w) => w.id !== workflowId)}
            secrets={usableSecrets(secrets.data ?? [], workflowId)}
            dispatch={dispatch}
          />
        ) : selectedEdge && selectedEdgeIndex !== undefined ? (
          <EdgeInspector
            edge={selectedEdge}
            index={selectedEdgeIndex}
            doc={doc}
            problems={shown.byEdge.get(selectedEdgeIndex) ?? []}
            dispatch={dispatch}
          />
        ) : (
          <WorkflowPanel doc={doc} problems={shown} dispatch={dispatch} onSelectProblem={selectProblem} />
        )}
      </aside>
      {panel === 'versions' && workflowId && (
        <div className="dialog" role="dialog" aria-label="Versions">
          <VersionsPanel
            workflowId={workflowId}
            onOpen={(def, v) => {
              try {
                dispatch({ kind: 'replace', doc: docFromDefinition(def) });
                setInfo(`Opened version ${v}. Saving makes it the newest version.`);
                setPanel('none');
              } catch (err) {
                setError(err);
              }
            }}
            onClose={() => setPanel('none')}
          />
        </div>
      )}
      {panel === 'triggers' && (
        <div className="dialog" role="dialog" aria-label="Triggers">
          <TriggersPanel workflowId={workflowId} doc={doc} dirty={dirty} dispatch={dispatch} onClose={() => setPanel('none')} />
        </div>
      )}
      {panel === 'run' && workflowId && (
        <div className="dialog" role="dialog" aria-label="Start a run">
          <StartRunForm schema={doc.meta.inputSchema} onStart={startRun} onCancel={() => setPanel('none')} />
        </div>
      )}
    </div>
  );
}
