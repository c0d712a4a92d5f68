// @vitest-environment happy-dom
/** Component tests: the forms render from their inputs and report what the user typed, typed. */
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../src/api/problem.ts';
import { EdgeInspector } from '../src/components/EdgeInspector.tsx';
import { EmptyState, ErrorBanner, StatusBadge } from '../src/components/Feedback.tsx';
import { NodeInspector } from '../src/components/NodeInspector.tsx';
import { StartRunForm } from '../src/components/StartRunForm.tsx';
import type { EditorChange } from '../src/editor/changes.ts';
import type { EditorDoc } from '../src/editor/doc.ts';
import { inputFields, readInput } from '../src/run/input-form.ts';

afterEach(cleanup);

const doc: EditorDoc = {
  meta: { name: 'w', inputSchema: { type: 'object', properties: { city: { type: 'string' } } } },
  nodes: [
    { id: 'search', type: 'tool_call', tool: 'hotels/search', input: { city: '$context.city' }, position: { x: 0, y: 0 } },
    { id: 'ok', type: 'condition', expression: '$count($search.hotels) > 0', position: { x: 0, y: 0 } },
  ],
  edges: [{ from: 'search', to: 'ok' }],
};

describe('StartRunForm', () => {
  const schema = {
    type: 'object',
    required: ['query'],
    properties: {
      query: { type: 'string', description: 'what to look for' },
      nights: { type: 'integer' },
      vip: { type: 'boolean' },
      tier: { enum: ['gold', 'silver'] },
      extra: { type: 'object' },
    },
  };

  it('builds one field per property and starts the run with typed values', async () => {
    const onStart = vi.fn(async () => {});
    render(<StartRunForm schema={schema} onStart={onStart} />);
    fireEvent.change(screen.getByLabelText(/query/), { target: { value: 'Lisbon' } });
    fireEvent.change(screen.getByLabelText(/nights/), { target: { value: '3' } });
    fireEvent.click(screen.getByLabelText(/vip/));
    fireEvent.change(screen.getByLabelText(/tier/), { target: { value: 'gold' } });
    fireEvent.change(screen.getByLabelText(/extra/), { target: { value: '{"a":1}' } });
    fireEvent.click(screen.getByRole('button', { name: 'Start run' }));
    await vi.waitFor(() => expect(onStart).toHaveBeenCalledOnce());
    expect(onStart).toHaveBeenCalledWith({ query: 'Lisbon', nights: 3, vip: true, tier: 'gold', extra: { a: 1 } });
  });

  it('refuses a missing required field and a non-integer, saying what to fix', async () => {
    const onStart = vi.fn(async () => {});
    render(<StartRunForm schema={schema} onStart={onStart} />);
    fireEvent.change(screen.getByLabelText(/nights/), { target: { value: '2.5' } });
    fireEvent.click(screen.getByRole('button', { name: 'Start run' }));
    await screen.findByText('Required.');
    expect(screen.getByText('Enter a whole number.')).toBeTruthy();
    expect(onStart).not.toHaveBeenCalled();
  });

  it('falls back to raw JSON without a schema', async () => {
    const onStart = vi.fn(async () => {});
    render(<StartRunForm schema={undefined} onStart={onStart} />);
    fireEvent.change(screen.getByLabelText('Input (JSON)'), { target: { value: '{ "x": [1] }' } });
    fireEvent.click(screen.getByRole('button', { name: 'Start run' }));
    await vi.waitFor(() => expect(onStart).toHaveBeenCalledWith({ x: [1] }));
  });

  it('reads inputs as the schema types them', () => {
    const fields = inputFields(schema);
    expect(fields.map((f) => f.kind)).toEqual(['string', 'integer', 'boolean', 'enum', 'json']);
    expect(readInput(fields, { query: 'q', nights: '', vip: 'false', tier: '', extra: '' })).toEqual({
      input: { query: 'q', vip: false },
      errors: {},
    });
  });
});

describe('EdgeInspector', () => {
  it('checks the condition syntax as it is typed and sends update changes', () => {
    const changes: EditorChange[] = [];
    const { rerender } = render(
      <EdgeInspector
        edge={{ from: 'search', to: 'ok', condition: '$ok.value = ' }}
        index={0}
        doc={doc}
        problems={[]}
        dispatch={(c) => changes.push(c)}
      />,
    );
    expect(screen.getByText(/^Syntax:/)).toBeTruthy();
    fireEvent.change(screen.getByLabelText(/Condition/), { target: { value: '$search.ok = true' } });
    expect(changes).toEqual([{ kind: 'update_edge', index: 0, patch: { condition: '$search.ok = true' } }]);
    rerender(
      <EdgeInspector
        edge={{ from: 'search', to: 'ok', condition: '$search.ok = true' }}
        index={0}
        doc={doc}
        problems={[]}
        dispatch={() => {}}
      />,
    );
    expect(screen.getByText('Syntax OK')).toBeTruthy();
  });
});

describe('NodeInspector', () => {
  it('shows the form of the node type and the tool input schema, with upstream autocomplete', () => {
    const changes: EditorChange[] = [];
    const tools = [
      {
        name: 'hotels/search',
        inputSchema: { type: 'object', required: ['city'], properties: { city: { type: 'string' }, max: { type: 'number' } } },
      },
    ];
    render(
      <NodeInspector node={doc.nodes[0]!} doc={doc} problems={[]} agents={[]} tools={tools} dispatch={(c) => changes.push(c)} />,
    );
    expect((screen.getByLabelText('Tool') as HTMLInputElement).value).toBe('hotels/search');
    expect((screen.getByLabelText(/city/) as HTMLInputElement).value).toBe('$context.city');
    fireEvent.change(screen.getByLabelText(/max/), { target: { value: '200' } });
    expect(changes.at(-1)).toEqual({ kind: 'update_node', id: 'search', patch: { input: { city: '$context.city', max: 200 } } });
    const options = [...document.querySelectorAll('datalist option')].map((o) => o.getAttribute('value'));
    expect(options).toContain('$context.city');
  });

  it('offers retry settings for a tool call but none for a human gate (a gate is not attempted again)', () => {
    const gate = { id: 'approve', type: 'human_gate', prompt: 'Go?', position: { x: 0, y: 0 } };
    const gateDoc: EditorDoc = { ...doc, nodes: [...doc.nodes, gate] };
    const { unmount } = render(
      <NodeInspector node={doc.nodes[0]!} doc={gateDoc} problems={[]} agents={[]} tools={[]} dispatch={() => {}} />,
    );
    expect(screen.queryByLabelText('Max attempts')).not.toBeNull();
    expect(screen.queryByLabelText('Backoff factor')).not.toBeNull();
    unmount();
    render(<NodeInspector node={gate} doc={gateDoc} problems={[]} agents={[]} tools={[]} dispatch={() => {}} />);
    expect(screen.queryByLabelText('Max attempts')).toBeNull();
    expect(screen.queryByLabelText('Initial delay (ms)')).toBeNull();
    expect(screen.queryByLabelText('Backoff factor')).toBeNull();
    expect(screen.queryByLabelText('On error')).not.toBeNull();
  });

  it('refuses a duplicate or malformed id and renames on Enter', () => {
    const changes: EditorChange[] = [];
    render(
      <NodeInspector
        node={doc.nodes[1]!}
        doc={doc}
        problems={[{ code: 'EXPRESSION_SYNTAX', message: 'bad' }]}
        agents={[]}
        tools={[]}
        dispatch={(c) => changes.push(c)}
      />,
    );
    expect(screen.getByText('bad')).toBeTruthy();
    const id = screen.getByLabelText('Id');
    fireEvent.change(id, { target: { value: 'search' } });
    expect(screen.getByText('Another node has this id.')).toBeTruthy();
    fireEvent.change(id, { target: { value: '1x' } });
    expect(screen.getByText(/Letters, digits/)).toBeTruthy();
    fireEvent.change(id, { target: { value: 'has_hotels' } });
    fireEvent.keyDown(id, { key: 'Enter' });
    expect(changes).toEqual([{ kind: 'rename_node', from: 'ok', to: 'has_hotels' }]);
  });
});

describe('feedback', () => {
  it('renders empty states, status badges and problem details', () => {
    render(
      <>
        <EmptyState title="Nothing here" />
        <StatusBadge status="failed" />
        <ErrorBanner error={new ApiError(409, 'Conflict', 'the gate is not waiting')} />
      </>,
    );
    expect(screen.getByRole('heading', { name: 'Nothing here' })).toBeTruthy();
    expect(screen.getByText('failed').className).toContain('status-failed');
    expect(screen.getByRole('alert').textContent).toContain('Conflict: the gate is not waiting');
  });
});
