/**
 * The builder: palette, canvas, inspector. The document and its undo history live here; the
 * canvas is a view of the document and reports edits as change objects (editor/changes.ts).
 */
import type { ValidationError } from '@trellis/core';
import { type Connection, type EdgeChange, ReactFlowProvider, useReactFlow } from '@xyflow/react';
import { type DragEvent, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ApiError } from '../api/problem.ts';
import { takeNewWorkflowSeed } from '../app/agent-skills.ts';
import { useApi } from '../app/context.ts';
import { navigate, setLeaveGuard } from '../app/navigation.ts';
import { useTheme } from '../app/theme.ts';
import { useAsync } from '../app/use-async.ts';
import { BuilderCanvas, type MoveKind } from '../components/BuilderCanvas.tsx';
import { ConnectPicker } from '../components/ConnectPicker.tsx';
import { EdgeInspector } from '../components/EdgeInspector.tsx';
import { ErrorBanner, Loading } from '../components/Feedback.tsx';
import { FIT_VIEW_OPTIONS } from '../components/FlowNode.tsx';
import { Link } from '../components/Layout.tsx';
import { NodeInspector } from '../components/NodeInspector.tsx';
import { DRAG_MIME, Palette, type PaletteItem } from '../components/Palette.tsx';
import { NodeTestPanel, RunDataBar, useRunData } from '../components/RunDataBar.tsx';
import { RunDataContext } from '../components/RunDataPreview.tsx';
import { ShortcutsOverlay } from '../components/ShortcutsOverlay.tsx';
import { StartRunForm } from '../components/StartRunForm.tsx';
import { TriggersPanel } from '../components/TriggersPanel.tsx';
import { VersionsPanel } from '../components/VersionsPanel.tsx';
import { WorkflowPanel } from '../components/WorkflowPanel.tsx';
import type { EditorChange } from '../editor/changes.ts';
import { type Clip, clipFromText, clipToText, copyNodes, pasteClip } from '../editor/clipboard.ts';
import { edgeForConnection } from '../editor/condition-ports.ts';
import { definitionFromDoc, docFromDefinition, docFromJson } from '../editor/convert.ts';
import { contentChanged } from '../editor/dirty.ts';
import { type EditorDoc, edgeIndexOf, emptyDoc, freshNodeId, type XY } from '../editor/doc.ts';
import { usableSecrets } from '../editor/headers-text.ts';
import { canRedo, canUndo, createHistory, redo, undo } from '../editor/history.ts';
import { commitDrag, commitEdit, type EditHistory, seal } from '../editor/history-coalesce.ts';
import { layoutPositions, NODE_HEIGHT, NODE_WIDTH } from '../editor/layout.ts';
import { freeSpot, spotAfter } from '../editor/placement.ts';
import { isTextField, matchShortcut } from '../editor/shortcuts.ts';
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
  // "New workflow with this skill/tool" hands its starting definition over (read once).
  const [seed] = useState(() => (workflowId ? undefined : takeNewWorkflowSeed(window.sessionStorage)));
  if (workflowId && wf.loading) return <Loading what="the workflow" />;
  if (wf.error) return <ErrorBanner error={wf.error} onRetry={wf.reload} />;
  let initial: EditorDoc;
  try {
    initial = wf.data ? docFromDefinition(wf.data.definition) : seed !== undefined ? docFromDefinition(seed) : emptyDoc();
  } catch (err) {
    return <ErrorBanner error={err} />;
  }
  return <BuilderEditor workflowId={workflowId} version={wf.data?.version} initial={initial} />;
}

/** After nodes are deleted the focus goes to the next node (document order), else the canvas. */
function focusAfterDelete(before: EditorDoc, removed: readonly string[]) {
  const gone = new Set(removed);
  const first = before.nodes.findIndex((n) => gone.has(n.id));
  const rest = before.nodes.filter((n) => !gone.has(n.id));
  const next = rest[Math.min(Math.max(first, 0), rest.length - 1)];
  requestAnimationFrame(() => {
    const el = next ? document.querySelector<HTMLElement>(`.builder .react-flow__node[data-id="${CSS.escape(next.id)}"]`) : null;
    (el ?? document.querySelector<HTMLElement>('.builder .canvas'))?.focus();
  });
}

const EMPTY_SET = new Set<never>();

/**
 * The last copy (Ctrl+C) in this tab, kept outside the builder so nodes copied in one workflow
 * can be pasted into another; `pastes` moves each paste further from the originals.
 */
let lastCopy: { clip: Clip; pastes: number } | undefined;
/** A Ctrl+V waiting to see whether the browser's paste event carries a copy from another tab. */
let pendingPaste = false;

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
  const [hist, setHist] = useState<EditHistory>(() => createHistory(initial));
  const [selNodes, setSelNodes] = useState<ReadonlySet<string>>(EMPTY_SET);
  const [selEdges, setSelEdges] = useState<ReadonlySet<number>>(EMPTY_SET);
  const [structRev, setStructRev] = useState(0);
  const [problems, setProblems] = useState<PinnedProblems>(() => validateDoc(initial));
  const [serverErrors, setServerErrors] = useState<ValidationError[] | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [info, setInfo] = useState<string | undefined>(undefined);
  const [saving, setSaving] = useState(false);
  const [panel, setPanel] = useState<'none' | 'versions' | 'run' | 'triggers'>('none');
  const runData = useRunData(workflowId);
  const [showShortcuts, setShowShortcuts] = useState(false);
  /** Save was refused for problems: the banner says how many are left, and goes when none are. */
  const [saveBlocked, setSaveBlocked] = useState(false);
  /** Fields whose text does not parse (JSON), by field: counted as problems, block saving. */
  const [fieldErrors, setFieldErrors] = useState<Readonly<Record<string, string>>>({});
  const theme = useTheme();
  const [savedDoc, setSavedDoc] = useState<EditorDoc | undefined>(workflowId ? initial : undefined);
  const [savedVersion, setSavedVersion] = useState(version);
  const fileRef = useRef<HTMLInputElement>(null);
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
  const docRef = useRef(doc);
  docRef.current = doc;
  const dispatch = useCallback((change: EditorChange) => {
    // Typing in one field is one undo step (history-coalesce.ts).
    setHist((h) => commitEdit(h, change));
    if (change.kind !== 'move_nodes') setStructRev((r) => r + 1);
    if (change.kind === 'remove') {
      setSelNodes(EMPTY_SET);
      setSelEdges(EMPTY_SET);
      if (change.nodeIds.length > 0) focusAfterDelete(docRef.current, change.nodeIds);
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

  // A field edit ends when its field loses focus: the next edit is a new undo step.
  useEffect(() => {
    const onFocusOut = () => setHist(seal);
    document.addEventListener('focusout', onFocusOut);
    return () => document.removeEventListener('focusout', onFocusOut);
  }, []);

  // The document matters only for pinning the server's errors (so moving nodes keeps `shown`).
  const pinDoc = serverErrors ? doc : undefined;
  const shown = useMemo(() => {
    const base = serverErrors && pinDoc ? pin(pinDoc, serverErrors, []) : problems;
    const fields = Object.entries(fieldErrors).map(([field, message]) => ({
      code: 'SCHEMA' as const,
      message: `${field}: ${message}`,
      path: field === 'Output bindings' ? '/output' : '/inputSchema',
    }));
    return fields.length ? { ...base, errors: [...base.errors, ...fields], general: [...base.general, ...fields] } : base;
  }, [serverErrors, problems, pinDoc, fieldErrors]);

  /** Nodes moved on the canvas: a whole drag is one undo step; arrow-key steps on the same nodes merge. */
  const onMove = useCallback((positions: Record<string, XY>, kind: MoveKind) => {
    const change = { kind: 'move_nodes', positions } as const;
    setHist((h) => (kind === 'drag' ? commitDrag(h, change) : commitEdit(h, change)));
  }, []);

  const onSelectNodes = useCallback((changes: readonly { id: string; selected: boolean }[]) => {
    setSelNodes((prev) => {
      const merged = new Set(prev);
      for (const c of changes) c.selected ? merged.add(c.id) : merged.delete(c.id);
      return merged.size === 0 ? EMPTY_SET : merged;
    });
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
      // From a condition node's true/false port the edge gets that port's condition.
      const r = edgeForConnection(docRef.current, c);
      if ('edge' in r) dispatch({ kind: 'add_edge', edge: r.edge });
    },
    [dispatch],
  );

  const onDelete = useCallback(
    (nodeIds: string[], edgeIds: string[]) => {
      const edgeIndexes = edgeIds.map((id) => edgeIndexOf(id)).filter((i): i is number => i !== undefined);
      if (nodeIds.length || edgeIndexes.length) dispatch({ kind: 'remove', nodeIds, edgeIndexes });
    },
    [dispatch],
  );

  /** Pans so that a node at `p` is fully in view (keyboard-added, focused, pasted). */
  const revealNode = useCallback(
    (p: { x: number; y: number }) => {
      const box = document.querySelector('.builder .canvas')?.getBoundingClientRect();
      if (!box) return;
      const tl = flow.flowToScreenPosition(p);
      const br = flow.flowToScreenPosition({ x: p.x + NODE_WIDTH, y: p.y + NODE_HEIGHT });
      const m = 24;
      if (tl.x >= box.left + m && tl.y >= box.top + m && br.x <= box.right - m && br.y <= box.bottom - m) return;
      void flow.setCenter(p.x + NODE_WIDTH / 2, p.y + NODE_HEIGHT / 2, { zoom: flow.getZoom(), duration: 150 });
    },
    [flow],
  );

  const addItem = useCallback(
    (item: PaletteItem, at?: { x: number; y: number }) => {
      const id = freshNodeId(
        hist.present,
        item.type === 'agent_call' && typeof item.fields.skill === 'string' ? item.fields.skill : item.type,
      );
      let position = at;
      if (!position) {
        // Added by keyboard or click: right of the selected node, else at the centre of the
        // view; never on top of another node (placement.ts).
        const sel = selNodes.size === 1 ? hist.present.nodes.find((n) => selNodes.has(n.id)) : undefined;
        if (sel) position = spotAfter(hist.present.nodes, sel.position);
        else {
          const box = document.querySelector('.builder .canvas')?.getBoundingClientRect();
          const center = box ? { x: box.left + box.width / 2, y: box.top + box.height / 2 } : { x: 400, y: 300 };
          const c = flow.screenToFlowPosition(center);
          position = freeSpot(hist.present.nodes, { x: Math.round(c.x - NODE_WIDTH / 2), y: Math.round(c.y - NODE_HEIGHT / 2) });
        }
        const p = position;
        requestAnimationFrame(() => revealNode(p));
      }
      dispatch({ kind: 'add_node', node: { id, type: item.type, ...structuredClone(item.fields), position } });
      setSelNodes(new Set([id]));
      setSelEdges(EMPTY_SET);
    },
    [hist.present, flow, dispatch, selNodes, revealNode],
  );

  function copySelection(): Clip | undefined {
    const c = copyNodes(doc, selNodes);
    if (c) lastCopy = { clip: c, pastes: 0 };
    return c;
  }

  function pasteNodes(c: Clip, offsetSteps: number) {
    const { nodes, edges } = pasteClip(doc, c, { offset: { x: 40 * offsetSteps, y: 40 * offsetSteps } });
    dispatch({ kind: 'add_nodes', nodes, edges });
    setSelNodes(new Set(nodes.map((n) => n.id)));
    setSelEdges(EMPTY_SET);
    setInfo(`Pasted ${nodes.length} node${nodes.length > 1 ? 's' : ''}: ${nodes.map((n) => n.id).join(', ')}.`);
    const firstNode = nodes[0];
    if (firstNode) requestAnimationFrame(() => revealNode(firstNode.position));
  }

  function onDrop(e: DragEvent) {
    const raw = e.dataTransfer.getData(DRAG_MIME);
    if (!raw) return;
    e.preventDefault();
    const item = JSON.parse(raw) as PaletteItem;
    const p = flow.screenToFlowPosition({ x: e.clientX, y: e.clientY });
    addItem(item, { x: p.x - NODE_WIDTH / 2, y: p.y - NODE_HEIGHT / 2 });
  }

  const onDropRef = useRef(onDrop);
  onDropRef.current = onDrop;
  const onCanvasDrop = useCallback((e: DragEvent) => onDropRef.current(e), []);

  const doUndo = useCallback(() => {
    setHist(undo);
    setStructRev((r) => r + 1);
  }, []);
  const doRedo = useCallback(() => {
    setHist(redo);
    setStructRev((r) => r + 1);
  }, []);

  // The shortcuts (editor/shortcuts.ts); text fields keep their own undo, copy and paste.
  const onShortcut = useRef<(e: KeyboardEvent) => void>(() => {});
  onShortcut.current = (e: KeyboardEvent) => {
    const inField = isTextField(e.target as Element | null);
    const action = matchShortcut(e, inField);
    if (!action) return;
    if (action === 'close') {
      if (showShortcuts) setShowShortcuts(false);
      else if (panel !== 'none') setPanel('none');
      else return;
      e.preventDefault();
      return;
    }
    if (showShortcuts && action !== 'help') return;
    // A text selection on the page (a problem message, a code sample) copies as text.
    if (action === 'copy' && (window.getSelection()?.toString() ?? '') !== '') return;
    // Paste keeps the browser's default so that the paste event (with its clipboard) fires.
    if (action !== 'paste') e.preventDefault();
    switch (action) {
      case 'save':
        if (!saving) void save();
        break;
      case 'undo':
        doUndo();
        break;
      case 'redo':
        doRedo();
        break;
      case 'copy': {
        const c = copySelection();
        if (c) {
          setInfo(`Copied ${c.nodes.length} node${c.nodes.length > 1 ? 's' : ''}.`);
          // Also to the system clipboard, as JSON (best effort: the page may lack the permission).
          navigator.clipboard?.writeText(clipToText(c)).catch(() => {});
        }
        break;
      }
      case 'paste':
        // The browser's paste event comes next and may carry a copy from another tab (the
        // listener below); if it does not, the last copy made in this tab is pasted.
        pendingPaste = true;
        setTimeout(() => {
          if (!pendingPaste) return;
          pendingPaste = false;
          if (lastCopy) {
            lastCopy.pastes += 1;
            pasteRef.current(lastCopy.clip, lastCopy.pastes);
          }
        }, 0);
        break;
      case 'duplicate': {
        const c = copyNodes(doc, selNodes);
        if (c) pasteNodes(c, 1);
        break;
      }
      case 'select_all':
        setSelNodes(new Set(doc.nodes.map((n) => n.id)));
        setSelEdges(EMPTY_SET);
        break;
      case 'layout':
        if (doc.nodes.length > 0) autoLayout();
        break;
      case 'help':
        setShowShortcuts((v) => !v);
        break;
      case 'delete':
        // Handled here rather than by the canvas, so it does not depend on the canvas's own
        // record of held keys (which a Ctrl+V could leave stale).
        if (selNodes.size > 0 || selEdges.size > 0)
          dispatch({ kind: 'remove', nodeIds: [...selNodes], edgeIndexes: [...selEdges] });
        break;
    }
  };
  const pasteRef = useRef(pasteNodes);
  pasteRef.current = pasteNodes;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => onShortcut.current(e);
    // Nodes copied in another tab arrive as JSON text on the system clipboard.
    const onPaste = (e: ClipboardEvent) => {
      if (isTextField(e.target as Element | null)) return;
      const text = e.clipboardData?.getData('text/plain') ?? '';
      const c = text ? clipFromText(text) : undefined;
      if (!c) return;
      e.preventDefault();
      pendingPaste = false;
      if (!lastCopy || clipToText(lastCopy.clip) !== text) lastCopy = { clip: c, pastes: 0 };
      lastCopy.pastes += 1;
      pasteRef.current(lastCopy.clip, lastCopy.pastes);
    };
    window.addEventListener('keydown', onKey);
    document.addEventListener('paste', onPaste);
    return () => {
      window.removeEventListener('keydown', onKey);
      document.removeEventListener('paste', onPaste);
    };
  }, []);

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
    setServerErrors(undefined);
    if (local.errors.length > 0 || Object.keys(fieldErrors).length > 0) {
      // The banner counts what is left as it is fixed, and goes away with the last problem.
      setSaveBlocked(true);
      return;
    }
    setSaveBlocked(false);
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
  /** Anything unsaved, positions included (leaving asks). */
  const dirty = savedDoc ? savedDoc !== doc : doc.nodes.length > 0;
  /** Unsaved content: Run needs a save first. Moved nodes alone do not count (dirty.ts). */
  const runBlocked = savedDoc ? contentChanged(savedDoc, doc) : true;

  // Leaving the page with unsaved edits asks first: in-app links and back/forward (the guard),
  // reload and close (beforeunload).
  useEffect(() => {
    if (!dirty) return;
    const onBeforeUnload = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener('beforeunload', onBeforeUnload);
    setLeaveGuard(() => window.confirm('This workflow has unsaved changes. Leave the page and lose them?'));
    return () => {
      window.removeEventListener('beforeunload', onBeforeUnload);
      setLeaveGuard(undefined);
    };
  }, [dirty]);

  const errorCount = shown.errors.length;
  const empty = doc.nodes.length === 0;

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
        {/* Wide windows show these inline; narrow ones (≤ 980 px) put them under "More" (styles.css). */}
        <span className="tb-secondary">
          <FileButtons
            onLayout={autoLayout}
            canLayout={doc.nodes.length > 0}
            onImport={() => fileRef.current?.click()}
            onExport={exportJson}
          />
        </span>
        <details className="tb-more" onKeyDown={(e) => e.key === 'Escape' && e.currentTarget.removeAttribute('open')}>
          <summary title="Auto-layout, import and export">More</summary>
          <div className="tb-menu">
            <FileButtons
              onLayout={autoLayout}
              canLayout={doc.nodes.length > 0}
              onImport={() => fileRef.current?.click()}
              onExport={exportJson}
            />
          </div>
        </details>
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
        <span className="spacer" />
        <span
          className={empty ? 'muted' : errorCount ? 'field-error' : 'muted'}
          role="status"
          aria-live="polite"
          data-field="validity"
        >
          {empty ? 'Empty' : errorCount ? `${errorCount} problem${errorCount > 1 ? 's' : ''}` : 'Valid'}
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
              disabled={runBlocked}
              title={
                runBlocked
                  ? 'Save first: runs use a saved version'
                  : dirty
                    ? 'Runs the saved version (only the layout changed)'
                    : undefined
              }
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
        <button type="button" className="primary" onClick={save} disabled={saving} title="Save (Ctrl+S)">
          {saving ? (
            'Saving…'
          ) : workflowId ? (
            <>
              Save<span className="tb-long"> new version</span>
            </>
          ) : (
            'Save'
          )}
        </button>
        <button
          type="button"
          className="ghost"
          onClick={() => setShowShortcuts(true)}
          aria-label="Keyboard shortcuts"
          title="Keyboard shortcuts (?)"
        >
          ?
        </button>
      </div>
      <Palette agents={agents.data ?? []} tools={tools.data ?? []} onAdd={(i) => addItem(i)} />
      <BuilderCanvas
        nodes={doc.nodes}
        edges={doc.edges}
        selectedNodes={selNodes}
        selectedEdges={selEdges}
        problems={shown}
        theme={theme}
        fitOnOpen={initial.nodes.length > 0}
        onMove={onMove}
        onSelectNodes={onSelectNodes}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        onDelete={onDelete}
        onDrop={onCanvasDrop}
        onFocusNode={revealNode}
      >
        {empty && (
          <div className="canvas-empty">
            <div>
              <h2>An empty workflow</h2>
              <p>Drag a node from the palette, or press one (Enter) to add it.</p>
              <p className="muted small">
                Connect nodes by dragging from a handle, or with "Connect to…" in the inspector. Press ? for shortcuts.
              </p>
            </div>
          </div>
        )}
      </BuilderCanvas>
      <aside className="side" aria-label="Inspector">
        <ErrorBanner error={error} />
        {saveBlocked && errorCount > 0 && (
          <p className="banner banner-error" role="alert">
            Fix the {errorCount} problem{errorCount > 1 ? 's' : ''} listed below before saving.
          </p>
        )}
        {info && (
          <p className="banner" role="status">
            {info}
          </p>
        )}
        {selectedNode && (
          <ConnectPicker
            key={`connect:${selectedNode.id}`}
            node={selectedNode}
            doc={doc}
            dispatch={dispatch}
            onSelectEdge={(i) => {
              setSelEdges(new Set([i]));
              setSelNodes(EMPTY_SET);
            }}
          />
        )}
        {workflowId && (selectedNode || selectedEdge) && <RunDataBar state={runData} />}
        {selectedNode ? (
          <RunDataContext.Provider value={{ data: runData.data, doc, nodeId: selectedNode.id }}>
            <NodeInspector
              key={selectedNode.id}
              node={selectedNode}
              doc={doc}
              problems={shown.byNode.get(selectedNode.id) ?? []}
              warnings={shown.warnByNode.get(selectedNode.id) ?? []}
              agents={agents.data ?? []}
              tools={tools.data ?? []}
              workflows={(workflows.data ?? []).filter((w) => w.id !== workflowId)}
              secrets={usableSecrets(secrets.data ?? [], workflowId)}
              dispatch={dispatch}
            />
            <NodeTestPanel
              key={`test-${selectedNode.id}`}
              workflowId={workflowId}
              doc={doc}
              node={selectedNode}
              state={runData}
              valid={shown.errors.length === 0}
            />
          </RunDataContext.Provider>
        ) : selectedEdge && selectedEdgeIndex !== undefined ? (
          <RunDataContext.Provider value={{ data: runData.data, doc, nodeId: selectedEdge.from, includeSelf: true }}>
            <EdgeInspector
              edge={selectedEdge}
              index={selectedEdgeIndex}
              doc={doc}
              problems={shown.byEdge.get(selectedEdgeIndex) ?? []}
              warnings={shown.warnByEdge.get(selectedEdgeIndex) ?? []}
              dispatch={dispatch}
            />
          </RunDataContext.Provider>
        ) : (
          <WorkflowPanel
            doc={doc}
            problems={shown}
            dispatch={dispatch}
            onSelectProblem={selectProblem}
            onFieldError={(field, message) =>
              setFieldErrors((prev) => {
                if (prev[field] === message) return prev;
                const next = { ...prev };
                if (message === undefined) delete next[field];
                else next[field] = message;
                return next;
              })
            }
          />
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
      {showShortcuts && <ShortcutsOverlay onClose={() => setShowShortcuts(false)} />}
      {panel === 'run' && workflowId && (
        <div className="dialog" role="dialog" aria-label="Start a run">
          <StartRunForm schema={doc.meta.inputSchema} onStart={startRun} onCancel={() => setPanel('none')} />
        </div>
      )}
    </div>
  );
}

function FileButtons({
  onLayout,
  canLayout,
  onImport,
  onExport,
}: {
  onLayout: () => void;
  canLayout: boolean;
  onImport: () => void;
  onExport: () => void;
}) {
  return (
    <>
      <button type="button" onClick={onLayout} disabled={!canLayout} title="Auto-layout (Shift+L)">
        Auto-layout
      </button>
      <button type="button" onClick={onImport}>
        Import JSON
      </button>
      <button type="button" onClick={onExport}>
        Export JSON
      </button>
    </>
  );
}
