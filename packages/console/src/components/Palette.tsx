/**
 * The palette: node types, registered agent skills and tools. Drag an item onto the canvas,
 * or press it (mouse or keyboard) to add it at the centre of the view.
 */
import { NODE_TYPES } from '@trellis/core';
import type { Agent, ToolInfo } from '../api/types.ts';

/** What a palette item creates: a node type with preset fields. */
export interface PaletteItem {
  key: string;
  label: string;
  type: string;
  fields: Record<string, unknown>;
}

export const DRAG_MIME = 'application/x-trellis-node';

const TYPE_DEFAULTS: Record<string, Record<string, unknown>> = {
  agent_call: { agent: '' },
  tool_call: { tool: 'http.request', input: { url: '' } },
  human_gate: { prompt: 'Approve?' },
  condition: { expression: 'true' },
  transform: { expression: '{}' },
  parallel: {},
  join: {},
  map: { items: '$context.items', concurrency: 4, do: { type: 'transform', expression: '$item' } },
  workflow: { workflow: '' },
};

export function paletteItems(agents: readonly Agent[], tools: readonly ToolInfo[]) {
  const types: PaletteItem[] = NODE_TYPES.map((t) => ({ key: `type:${t}`, label: t, type: t, fields: TYPE_DEFAULTS[t] ?? {} }));
  const skills: PaletteItem[] = agents.flatMap((a) =>
    a.skills.map((s) => ({
      key: `skill:${a.id}:${s.id}`,
      label: `${a.name} · ${s.name ?? s.id}`,
      type: 'agent_call',
      fields: { agent: a.name, skill: s.id },
    })),
  );
  const toolItems: PaletteItem[] = tools.map((t) => ({
    key: `tool:${t.name}`,
    label: t.name,
    type: 'tool_call',
    fields: { tool: t.name },
  }));
  return { types, skills, tools: toolItems };
}

function Item({ item, onAdd }: { item: PaletteItem; onAdd: (item: PaletteItem) => void }) {
  return (
    <button
      type="button"
      className="palette-item"
      draggable
      data-palette={item.key}
      aria-label={`Add ${item.label}`}
      onDragStart={(e) => {
        e.dataTransfer.setData(DRAG_MIME, JSON.stringify(item));
        e.dataTransfer.effectAllowed = 'move';
      }}
      onClick={() => onAdd(item)}
    >
      {item.label}
    </button>
  );
}

export function Palette({
  agents,
  tools,
  onAdd,
}: {
  agents: readonly Agent[];
  tools: readonly ToolInfo[];
  onAdd: (item: PaletteItem) => void;
}) {
  const items = paletteItems(agents, tools);
  return (
    <aside className="palette" aria-label="Palette">
      <h2>Nodes</h2>
      {items.types.map((i) => (
        <Item key={i.key} item={i} onAdd={onAdd} />
      ))}
      <h2>Agent skills</h2>
      {items.skills.length === 0 && <p className="muted small">No agents registered.</p>}
      {items.skills.map((i) => (
        <Item key={i.key} item={i} onAdd={onAdd} />
      ))}
      <h2>Tools</h2>
      {items.tools.length === 0 && <p className="muted small">No MCP tools registered.</p>}
      {items.tools.map((i) => (
        <Item key={i.key} item={i} onAdd={onAdd} />
      ))}
    </aside>
  );
}
