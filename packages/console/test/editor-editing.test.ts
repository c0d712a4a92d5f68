/**
 * The builder's editing basics, headless (#21): condition ports, undo per field edit, copy and
 * paste, placement, unsaved content, shortcuts, edge routing, palette search, template names,
 * and the validation messages (empty workflow, warnings pinned, `tru`, one position).
 */
import { describe, expect, it } from 'vitest';
import { uniqueName } from '../src/app/workflow-names.ts';
import { filterItems, paletteItems } from '../src/components/Palette.tsx';
import { applyChange } from '../src/editor/changes.ts';
import { clipFromText, clipToText, copyId, copyNodes, pasteClip } from '../src/editor/clipboard.ts';
import { edgeDisplayLabel, edgeForConnection, edgePort, portCondition } from '../src/editor/condition-ports.ts';
import { contentChanged } from '../src/editor/dirty.ts';
import type { EditorDoc } from '../src/editor/doc.ts';
import { routeEdge } from '../src/editor/edge-routing.ts';
import { mapEdges } from '../src/editor/flow-mapping.ts';
import { createHistory, redo, undo } from '../src/editor/history.ts';
import { coalesceKey, commitEdit, type EditHistory, seal } from '../src/editor/history-coalesce.ts';
import { NODE_HEIGHT, NODE_WIDTH } from '../src/editor/layout.ts';
import { freeSpot, spotAfter } from '../src/editor/placement.ts';
import { isTextField, matchShortcut } from '../src/editor/shortcuts.ts';
import {
  EMPTY_WORKFLOW_MESSAGE,
  expressionSyntaxError,
  expressionSyntaxProblem,
  unknownNames,
  validateDoc,
} from '../src/editor/validate.ts';

const at = { x: 0, y: 0 };

function branching(): EditorDoc {
  return {
    meta: { name: 'branching' },
    nodes: [
      { id: 'start', type: 'transform', expression: '$context.n', position: { x: 0, y: 0 } },
      { id: 'check', type: 'condition', expression: '$start > 3', position: { x: 260, y: 0 } },
      { id: 'big', type: 'transform', expression: "'big ' & $start", position: { x: 520, y: -80 } },
      { id: 'small', type: 'transform', expression: "'small'", position: { x: 520, y: 80 } },
    ],
    edges: [{ from: 'start', to: 'check' }],
  };
}

describe('condition ports', () => {
  it('an edge drawn from the true or false port gets that condition; other ports none', () => {
    const doc = branching();
    expect(edgeForConnection(doc, { source: 'check', target: 'big', sourceHandle: 'true' })).toEqual({
      edge: { from: 'check', to: 'big', condition: '$check.value = true' },
    });
    expect(edgeForConnection(doc, { source: 'check', target: 'small', sourceHandle: 'false' })).toEqual({
      edge: { from: 'check', to: 'small', condition: '$check.value = false' },
    });
    expect(edgeForConnection(doc, { source: 'check', target: 'small', sourceHandle: 'other' })).toEqual({
      edge: { from: 'check', to: 'small' },
    });
    // A port handle id on a node that is not a condition writes nothing.
    expect(edgeForConnection(doc, { source: 'start', target: 'big', sourceHandle: 'true' })).toEqual({
      edge: { from: 'start', to: 'big' },
    });
  });

  it('refuses self-loops and a second edge between the same nodes', () => {
    const doc = branching();
    expect(edgeForConnection(doc, { source: 'check', target: 'check' })).toEqual({ refused: 'a node cannot lead to itself' });
    expect(edgeForConnection(doc, { source: 'start', target: 'check' })).toMatchObject({
      refused: expect.stringContaining('already'),
    });
  });

  it('reads the port back from the condition (spacing aside), and keeps it through a rename', () => {
    expect(edgePort({ from: 'check', condition: '$check.value=true' })).toBe('true');
    expect(edgePort({ from: 'check', condition: portCondition('check', 'false') })).toBe('false');
    expect(edgePort({ from: 'check', condition: '$check.value > 2' })).toBe('other');
    expect(edgePort({ from: 'check' })).toBe('other');
    let doc = applyChange(branching(), {
      kind: 'add_edge',
      edge: { from: 'check', to: 'big', condition: portCondition('check', 'true') },
    });
    doc = applyChange(doc, { kind: 'rename_node', from: 'check', to: 'is_big' });
    expect(edgePort(doc.edges[1]!)).toBe('true');
    expect(edgeDisplayLabel(doc.edges[1]!, 'condition')).toBe('true');
    expect(edgeDisplayLabel({ from: 'a', to: 'b', condition: '$a.x > 1' }, 'transform')).toBe('$a.x > 1');
  });

  it('edges leaving a condition node are drawn from their port, with an arrowhead; warnings are marked', () => {
    const doc = applyChange(branching(), {
      kind: 'add_nodes',
      nodes: [],
      edges: [
        { from: 'check', to: 'big', condition: '$check.value = true' },
        { from: 'check', to: 'small' },
      ],
    });
    const types = new Map(doc.nodes.map((n) => [n.id, n.type]));
    const edges = mapEdges(doc.edges, new Set(), new Map(), undefined, { nodeTypes: types, warnings: new Map([[2, [{}]]]) });
    expect(edges.map((e) => e.sourceHandle)).toEqual([undefined, 'true', 'other']);
    expect(edges[1]!.label).toBe('true');
    expect(edges[2]!.className).toContain('edge-warning');
    expect(edges[2]!.label).toBe('! no condition');
    expect(edges.every((e) => e.markerEnd && e.type === 'trellis')).toBe(true);
  });
});

describe('validation messages', () => {
  it('an empty workflow says so in words, not as a raw schema error', () => {
    const p = validateDoc({ meta: { name: 'new' }, nodes: [], edges: [] });
    expect(p.errors.map((e) => e.message)).toEqual([EMPTY_WORKFLOW_MESSAGE]);
  });

  it('a condition node edge without a condition is a warning pinned to that edge only; the workflow stays valid', () => {
    let doc = applyChange(branching(), {
      kind: 'add_edge',
      edge: { from: 'check', to: 'big', condition: '$check.value = true' },
    });
    doc = applyChange(doc, { kind: 'add_edge', edge: { from: 'check', to: 'small' } });
    const p = validateDoc(doc);
    expect(p.errors).toEqual([]);
    expect([...p.warnByEdge.keys()]).toEqual([2]);
    expect(p.warnByEdge.get(2)?.[0]?.code).toBe('CONDITION_EDGE_WITHOUT_CONDITION');
    expect(p.warnByNode.size).toBe(0);
  });

  it('`tru` is not "Syntax OK": it is an unknown name, with `true` suggested', () => {
    const doc = branching();
    expect(expressionSyntaxError('$check.value = tru')).toBeUndefined();
    expect(unknownNames('$check.value = tru', doc)).toEqual([{ name: 'tru', start: 15, suggestion: 'true' }]);
    expect(unknownNames('$check.value = true and start > 1 and context.x', doc)).toEqual([]);
  });

  it('a parse error says its position once', () => {
    const p = expressionSyntaxProblem('$check.value = ');
    expect(p?.message).not.toContain('at character');
    expect(p?.position).toBeTypeOf('number');
    const line = expressionSyntaxError('$check.value = ')!;
    expect(line.match(/at character/g)).toHaveLength(1);
  });
});

describe('undo per field edit', () => {
  const edit = (h: EditHistory, expression: string) => commitEdit(h, { kind: 'update_node', id: 'start', patch: { expression } });

  it('typing in one field is one undo step; another field or a sealed field starts a new one', () => {
    let h: EditHistory = createHistory(branching());
    for (const text of ['$', '$c', '$co', '$context.m']) h = edit(h, text);
    expect(h.past).toHaveLength(1);
    expect(h.present.nodes[0]!.expression).toBe('$context.m');
    h = commitEdit(h, { kind: 'update_node', id: 'start', patch: { name: 'Start' } });
    expect(h.past).toHaveLength(2);
    h = seal(h);
    h = commitEdit(h, { kind: 'update_node', id: 'start', patch: { name: 'Start!' } });
    expect(h.past).toHaveLength(3);
    h = undo(undo(h));
    expect(h.present.nodes[0]!.expression).toBe('$context.m');
    expect(h.present.nodes[0]!.name).toBeUndefined();
    h = undo(h);
    expect(h.present.nodes[0]!.expression).toBe('$context.n');
    expect(redo(h).present.nodes[0]!.expression).toBe('$context.m');
  });

  it('after undo the next keystroke is a new step (no merging into a step that was undone)', () => {
    let h: EditHistory = edit(edit(createHistory(branching()), 'a'), 'ab');
    h = undo(h);
    h = edit(h, 'x');
    expect(h.past).toHaveLength(1);
    expect(undo(h).present.nodes[0]!.expression).toBe('$context.n');
  });

  it('only field edits coalesce', () => {
    expect(coalesceKey({ kind: 'update_edge', index: 2, patch: { condition: 'x' } })).toBe('edge:2:condition');
    expect(coalesceKey({ kind: 'set_meta', patch: { name: 'x' } })).toBe('meta:name');
    expect(coalesceKey({ kind: 'add_edge', edge: { from: 'a', to: 'b' } })).toBeUndefined();
    expect(coalesceKey({ kind: 'move_nodes', positions: { b: at, a: at } })).toBe('move:a,b');
  });

  it('arrow-key moves of a node are one undo step', () => {
    let h: EditHistory = createHistory(branching());
    for (let x = 10; x <= 50; x += 10) h = commitEdit(h, { kind: 'move_nodes', positions: { start: { x, y: 0 } } });
    expect(h.past).toHaveLength(1);
    expect(undo(h).present.nodes[0]!.position).toEqual({ x: 0, y: 0 });
  });
});

describe('copy, paste, duplicate', () => {
  it('pastes with fresh ids, edges among the copies, references between copies renamed and others kept', () => {
    const doc = applyChange(branching(), {
      kind: 'add_edge',
      edge: { from: 'check', to: 'big', condition: '$check.value = true' },
    });
    const clip = copyNodes(doc, new Set(['check', 'big']))!;
    expect(clip.edges).toEqual([{ from: 'check', to: 'big', condition: '$check.value = true' }]);
    const { nodes, edges, ids } = pasteClip(doc, clip, { offset: { x: 40, y: 40 } });
    expect(nodes.map((n) => n.id)).toEqual(['check_2', 'big_2']);
    expect(ids.get('check')).toBe('check_2');
    expect(edges).toEqual([{ from: 'check_2', to: 'big_2', condition: '$check_2.value = true' }]);
    // `$start` was not copied: the copy still reads the same upstream node.
    expect(nodes[0]!.expression).toBe('$start > 3');
    expect(nodes[0]!.position).toEqual({ x: 300, y: 40 });
    // Pasting again takes the next free ids.
    const doc2 = applyChange(doc, { kind: 'add_nodes', nodes, edges });
    expect(pasteClip(doc2, clip, { offset: at }).nodes.map((n) => n.id)).toEqual(['check_3', 'big_3']);
  });

  it('copy ids count on from a trailing number; a clip survives the system clipboard as text', () => {
    expect(copyId('tool_call_1', new Set(['tool_call_1']))).toBe('tool_call_2');
    expect(copyId('search', new Set(['search', 'search_2']))).toBe('search_3');
    const clip = copyNodes(branching(), new Set(['start']))!;
    expect(clipFromText(clipToText(clip))).toEqual(clip);
    expect(clipFromText('{"nodes": []}')).toBeUndefined();
    expect(clipFromText('not json')).toBeUndefined();
  });

  it('copying nothing gives nothing', () => {
    expect(copyNodes(branching(), new Set())).toBeUndefined();
  });
});

describe('placement, unsaved content, shortcuts', () => {
  it('a node added by keyboard never lands on another node', () => {
    const nodes = [{ position: { x: 0, y: 0 } }];
    const p = freeSpot(nodes, { x: 10, y: 10 });
    expect(Math.abs(p.x - 0) >= NODE_WIDTH || Math.abs(p.y - 0) >= NODE_HEIGHT).toBe(true);
    expect(freeSpot([], { x: 10, y: 10 })).toEqual({ x: 10, y: 10 });
    let placed: { position: { x: number; y: number } }[] = [];
    for (let i = 0; i < 8; i++) placed = [...placed, { position: freeSpot(placed, { x: 0, y: 0 }) }];
    for (const a of placed)
      for (const b of placed)
        if (a !== b)
          expect(
            Math.abs(a.position.x - b.position.x) >= NODE_WIDTH || Math.abs(a.position.y - b.position.y) >= NODE_HEIGHT,
          ).toBe(true);
    expect(spotAfter([], { x: 0, y: 0 }).x).toBeGreaterThan(NODE_WIDTH);
  });

  it('moving nodes alone does not count as a content change (Run stays enabled); an edit does', () => {
    const saved = branching();
    const moved = applyChange(saved, { kind: 'move_nodes', positions: { start: { x: 99, y: 99 } } });
    expect(contentChanged(saved, moved)).toBe(false);
    expect(contentChanged(saved, applyChange(moved, { kind: 'update_node', id: 'start', patch: { name: 'x' } }))).toBe(true);
    expect(contentChanged(saved, applyChange(saved, { kind: 'add_edge', edge: { from: 'check', to: 'big' } }))).toBe(true);
  });

  it('matches shortcuts, leaving text fields their own keys except save and escape', () => {
    const k = (key: string, mods: Partial<{ ctrlKey: boolean; shiftKey: boolean; metaKey: boolean }> = {}) => ({
      key,
      ctrlKey: false,
      metaKey: false,
      shiftKey: false,
      altKey: false,
      ...mods,
    });
    expect(matchShortcut(k('s', { ctrlKey: true }), true)).toBe('save');
    expect(matchShortcut(k('z', { ctrlKey: true }), true)).toBeUndefined();
    expect(matchShortcut(k('z', { ctrlKey: true }), false)).toBe('undo');
    expect(matchShortcut(k('Z', { ctrlKey: true, shiftKey: true }), false)).toBe('redo');
    expect(matchShortcut(k('c', { metaKey: true }), false)).toBe('copy');
    expect(matchShortcut(k('d', { ctrlKey: true }), false)).toBe('duplicate');
    expect(matchShortcut(k('?', { shiftKey: true }), false)).toBe('help');
    expect(matchShortcut(k('?', { shiftKey: true }), true)).toBeUndefined();
    expect(matchShortcut(k('Escape'), true)).toBe('close');
    expect(matchShortcut(k('x'), false)).toBeUndefined();
    expect(isTextField(null)).toBe(false);
  });
});

describe('edge routing', () => {
  it('a clear path is the plain bezier with the label in the middle', () => {
    const r = routeEdge({ x: 0, y: 0 }, 'right', { x: 400, y: 0 }, 'left', []);
    expect(r.detour).toBe(false);
    expect(r.labelX).toBeCloseTo(200);
    expect(r.path.startsWith('M0,0 C')).toBe(true);
  });

  it('an edge that would cross a node detours round it, and its label is not on a node', () => {
    const blocker = { x: 300, y: -28, width: NODE_WIDTH, height: NODE_HEIGHT };
    const r = routeEdge({ x: 0, y: 0 }, 'right', { x: 800, y: 0 }, 'left', [blocker]);
    expect(r.detour).toBe(true);
    const inside = (x: number, y: number) =>
      x > blocker.x && x < blocker.x + blocker.width && y > blocker.y && y < blocker.y + blocker.height;
    expect(inside(r.labelX, r.labelY)).toBe(false);
    // The lane runs above or below the blocker.
    const lane = Number(/L[\d.-]+,([\d.-]+)/.exec(r.path)?.[1]);
    expect(lane < blocker.y || lane > blocker.y + blocker.height).toBe(true);
  });

  it('a label moves off a node that sits on the middle of the curve', () => {
    const onMiddle = { x: 180, y: 40, width: 60, height: 60 };
    const r = routeEdge({ x: 0, y: 0 }, 'right', { x: 400, y: 140 }, 'left', [onMiddle]);
    const inside =
      r.labelX > onMiddle.x &&
      r.labelX < onMiddle.x + onMiddle.width &&
      r.labelY > onMiddle.y &&
      r.labelY < onMiddle.y + onMiddle.height;
    expect(inside).toBe(false);
  });
});

describe('palette search and template names', () => {
  it('filters by label, type and description, every word', () => {
    const items = paletteItems(
      [{ id: 'a1', name: 'travel', url: 'http://x', skills: [{ id: 'search_hotels', description: 'Find hotels in a city' }] }],
      [{ name: 'fs/read_file', description: 'Read a file' }],
    );
    const all = [...items.types, ...items.skills, ...items.tools];
    expect(filterItems(all, 'hotels').map((i) => i.key)).toEqual(['skill:a1:search_hotels']);
    expect(filterItems(all, 'read file').map((i) => i.key)).toEqual(['tool:fs/read_file']);
    expect(filterItems(all, 'branches').map((i) => i.type)).toContain('condition');
    expect(filterItems(all, '')).toHaveLength(all.length);
  });

  it('a template used twice gets two names', () => {
    expect(uniqueName('hotel-search', [])).toBe('hotel-search');
    expect(uniqueName('hotel-search', ['hotel-search'])).toBe('hotel-search-2');
    expect(uniqueName('hotel-search', ['hotel-search', 'hotel-search-2'])).toBe('hotel-search-3');
  });
});
