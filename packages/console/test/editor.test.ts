/** The builder's headless core: change objects, undo/redo, import/export, layout, validation, suggestions. */
import { describe, expect, it } from 'vitest';
import { applyChange } from '../src/editor/changes.ts';
import { definitionFromDoc, docFromDefinition, docFromJson, ImportError } from '../src/editor/convert.ts';
import { type EditorDoc, edgeId, edgeIndexOf, freshNodeId } from '../src/editor/doc.ts';
import { canRedo, canUndo, commit, createHistory, redo, undo } from '../src/editor/history.ts';
import { commitDrag, commitEdit } from '../src/editor/history-coalesce.ts';
import { layoutPositions, NODE_WIDTH } from '../src/editor/layout.ts';
import { ancestorsOf, bindingSuggestions, edgeSuggestions } from '../src/editor/suggestions.ts';
import { expressionSyntaxError, validateDoc } from '../src/editor/validate.ts';

const at = { x: 0, y: 0 };

function threeNodes(): EditorDoc {
  return {
    meta: { name: 'three', inputSchema: { type: 'object', properties: { q: { type: 'string' } } } },
    nodes: [
      { id: 'fetch', type: 'tool_call', tool: 'http.request', input: { url: '$context.q' }, position: at },
      { id: 'check', type: 'condition', expression: '$fetch.status = 200', position: at },
      { id: 'done', type: 'transform', expression: '$fetch.body', position: at },
    ],
    edges: [
      { from: 'fetch', to: 'check' },
      { from: 'check', to: 'done', condition: '$check.value = true' },
    ],
  };
}

describe('change objects', () => {
  it('removing a node removes its edges too', () => {
    const next = applyChange(threeNodes(), { kind: 'remove', nodeIds: ['check'], edgeIndexes: [] });
    expect(next.nodes.map((n) => n.id)).toEqual(['fetch', 'done']);
    expect(next.edges).toEqual([]);
  });

  it('removes edges by index', () => {
    const next = applyChange(threeNodes(), { kind: 'remove', nodeIds: [], edgeIndexes: [1] });
    expect(next.edges).toEqual([{ from: 'fetch', to: 'check' }]);
  });

  it('renaming a node rewrites its edges and the references that name it, and only those', () => {
    const doc = threeNodes();
    doc.nodes.push({ id: 'fetcher', type: 'transform', expression: '$fetcher', position: at });
    const next = applyChange(doc, { kind: 'rename_node', from: 'fetch', to: 'get' });
    expect(next.nodes[0]?.id).toBe('get');
    expect(next.nodes[1]?.expression).toBe('$get.status = 200');
    expect(next.nodes[2]?.expression).toBe('$get.body');
    expect(next.nodes[3]?.expression).toBe('$fetcher');
    expect(next.edges[0]).toEqual({ from: 'get', to: 'check' });
    expect(doc.nodes[0]?.id).toBe('fetch');
  });

  it('update_node removes fields set to undefined and never mutates', () => {
    const doc = threeNodes();
    const next = applyChange(doc, { kind: 'update_node', id: 'fetch', patch: { input: undefined, name: 'Fetch' } });
    expect(next.nodes[0]).not.toHaveProperty('input');
    expect(next.nodes[0]?.name).toBe('Fetch');
    expect(doc.nodes[0]).toHaveProperty('input');
  });

  it('fresh ids and edge ids', () => {
    expect(freshNodeId(threeNodes(), 'tool_call')).toBe('tool_call_1');
    expect(freshNodeId(threeNodes(), '9 lives!')).toBe('_9_lives__1');
    expect(edgeIndexOf(edgeId(12))).toBe(12);
    expect(edgeIndexOf('x')).toBeUndefined();
  });
});

describe('undo and redo', () => {
  it('undoes and redoes edits in order, and a new edit clears the redo stack', () => {
    let h = createHistory(threeNodes());
    h = commit(h, { kind: 'set_meta', patch: { name: 'a' } });
    h = commit(h, { kind: 'set_meta', patch: { name: 'b' } });
    h = undo(h);
    expect(h.present.meta.name).toBe('a');
    h = redo(h);
    expect(h.present.meta.name).toBe('b');
    h = undo(undo(h));
    expect(h.present.meta.name).toBe('three');
    expect(canUndo(h)).toBe(false);
    h = commit(h, { kind: 'set_meta', patch: { name: 'c' } });
    expect(canRedo(h)).toBe(false);
  });

  it('a drag is one undo step of its own; arrow-key steps around it merge among themselves only; a drag back to the start is none', () => {
    const step = (x: number) => ({ kind: 'move_nodes', positions: { fetch: { x, y: 0 } } }) as const;
    let h = commitEdit(createHistory(threeNodes()), step(1));
    h = commitEdit(h, step(2));
    expect(h.past).toHaveLength(1);
    // The canvas hands the whole drag over at the drop: one step, not merged with the arrows.
    h = commitDrag(h, step(300));
    expect(h.past).toHaveLength(2);
    h = commitEdit(h, step(301));
    expect(h.past).toHaveLength(3);
    expect(h.present.nodes[0]?.position).toEqual({ x: 301, y: 0 });
    h = undo(h);
    expect(h.present.nodes[0]?.position).toEqual({ x: 300, y: 0 });
    h = undo(h);
    expect(h.present.nodes[0]?.position).toEqual({ x: 2, y: 0 });
    h = commitDrag(h, step(2));
    expect(h.past).toHaveLength(1);
  });
});

describe('import and export', () => {
  it('round-trips a definition, keeping positions as layout hints', () => {
    const def = definitionFromDoc(threeNodes());
    const back = docFromDefinition(JSON.parse(JSON.stringify(def)));
    expect(definitionFromDoc(back)).toEqual(def);
  });

  it('lays out nodes that come without positions', () => {
    const doc = docFromDefinition({
      name: 'x',
      nodes: [
        { id: 'a', type: 'transform', expression: '1' },
        { id: 'b', type: 'transform', expression: '2' },
      ],
      edges: [{ from: 'a', to: 'b' }],
    });
    expect(doc.nodes[1]!.position.x).toBeGreaterThan(doc.nodes[0]!.position.x);
  });

  it('says what is wrong with a file that is not a definition', () => {
    expect(() => docFromJson('{ nope')).toThrow(ImportError);
    expect(() => docFromJson('{ nope')).toThrow(/not valid JSON/);
    expect(() => docFromJson('[1]')).toThrow(/JSON object/);
    expect(() => docFromJson('{"name":"x"}')).toThrow(/no "nodes"/);
  });
});

describe('auto-layout', () => {
  it('places every node, left to right along the edges, without overlaps in a rank', () => {
    const doc = threeNodes();
    doc.nodes.push({ id: 'other', type: 'transform', expression: '1', position: at });
    doc.edges.push({ from: 'fetch', to: 'other' });
    const p = layoutPositions(doc.nodes, doc.edges);
    expect(Object.keys(p).sort()).toEqual(['check', 'done', 'fetch', 'other']);
    expect(p.check!.x).toBeGreaterThanOrEqual(p.fetch!.x + NODE_WIDTH);
    expect(p.done!.x).toBeGreaterThanOrEqual(p.check!.x + NODE_WIDTH);
    expect(p.other!.x).toBe(p.check!.x);
    expect(Math.abs(p.other!.y - p.check!.y)).toBeGreaterThan(50);
  });
});

describe('validation pinned to nodes and edges (the core compiler)', () => {
  it('a valid document has no problems', () => {
    expect(validateDoc(threeNodes()).errors).toEqual([]);
  });

  it('pins an expression error to its node and a bad edge condition to its edge', () => {
    const doc = threeNodes();
    doc.nodes[2]!.expression = '$fetch.body +';
    doc.edges[1]!.condition = '$check.value = ';
    const p = validateDoc(doc);
    expect(p.byNode.get('done')?.map((e) => e.code)).toContain('EXPRESSION_SYNTAX');
    expect(p.byEdge.get(1)?.map((e) => e.code)).toContain('EXPRESSION_SYNTAX');
    expect(p.byNode.has('fetch')).toBe(false);
  });

  it('pins a binding to a node that is not upstream', () => {
    const doc = threeNodes();
    doc.nodes[0]!.input = { url: '$done.x' };
    const p = validateDoc(doc);
    expect(p.byNode.get('fetch')?.map((e) => e.code)).toEqual(expect.arrayContaining(['BINDING_NOT_UPSTREAM']));
  });

  it('reports a cycle on the nodes in it', () => {
    const doc = threeNodes();
    doc.edges.push({ from: 'done', to: 'fetch' });
    const p = validateDoc(doc);
    const cycle = p.errors.find((e) => e.code === 'CYCLE');
    expect(cycle).toBeDefined();
    for (const id of ['fetch', 'check', 'done']) expect(p.byNode.get(id)?.some((e) => e.code === 'CYCLE')).toBe(true);
  });

  it('checks condition syntax for the edge editor', () => {
    expect(expressionSyntaxError('$a.value = true')).toBeUndefined();
    expect(expressionSyntaxError('$a.value = ')).toMatch(/.+/);
    expect(expressionSyntaxError('')).toBeUndefined();
  });
});

describe('binding autocomplete', () => {
  it('offers the context fields and the ancestors, never a node downstream', () => {
    const doc = threeNodes();
    expect([...ancestorsOf('done', doc.edges)].sort()).toEqual(['check', 'fetch']);
    const s = bindingSuggestions(doc, 'check');
    expect(s).toEqual(expect.arrayContaining(['$context', '$context.q', '$fetch']));
    expect(s.some((x) => x.startsWith('$done') || x.startsWith('$check'))).toBe(false);
    expect(edgeSuggestions(doc, doc.edges[1]!)).toEqual(expect.arrayContaining(['$check', '$check.value', '$fetch']));
  });
});
