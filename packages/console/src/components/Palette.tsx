/**
 * The palette: node types, registered agent skills and tools. Drag an item onto the canvas,
 * or press it (mouse or keyboard) to add it at the centre of the view.
 */
import { NODE_TYPES } from '@trellis/core';
import { useState } from 'react';
import type { Agent, ToolInfo } from '../api/types.ts';

/** What a palette item creates: a node type with preset fields. */
export interface PaletteItem {
  key: string;
  label: string;
  type: string;
  fields: Record<string, unknown>;
  /** Shown as the item's tooltip and matched by the search. */
  description?: string;
}

/** What each node type does, for tooltips. */
export const TYPE_DESCRIPTIONS: Record<string, string> = {
  agent_call: 'Call an A2A agent (a skill of a registered agent); output: its text and artifacts',
  tool_call: 'Call an MCP tool or http.request with bound input; output: the tool result',
  human_gate: 'Wait for a person to approve or reject, with optional data and a comment',
  condition: 'Evaluate a JSONata expression; its true and false ports lead to the two branches',
  parallel: 'Fan out: every outgoing edge runs at once',
  join: 'Wait for the incoming branches: all of them, or any one',
  transform: 'Compute a value with a JSONata expression over the run input and earlier outputs',
  map: 'Run one task per item of an array, with a concurrency limit',
  workflow: 'Run another workflow as a child run and use its output',
};

/** Items whose label, type or description contain every word of the query (case-insensitive). */
export function filterItems(items: readonly PaletteItem[], query: string): PaletteItem[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [...items];
  return items.filter((i) => {
    const hay = `${i.label} ${i.type} ${i.description ?? ''}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  });
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
  const types: PaletteItem[] = NODE_TYPES.map((t) => ({
    key: `type:${t}`,
    label: t,
    type: t,
    fields: TYPE_DEFAULTS[t] ?? {},
    description: TYPE_DESCRIPTIONS[t] ?? t,
  }));
  const skills: PaletteItem[] = agents.flatMap((a) =>
    a.skills.map((s) => ({
      key: `skill:${a.id}:${s.id}`,
      label: `${a.name} · ${s.name ?? s.id}`,
      type: 'agent_call',
      fields: { agent: a.name, skill: s.id },
      description: [s.description, a.description].filter(Boolean).join(' — ') || `Skill ${s.id} of ${a.name}`,
    })),
  );
  const toolItems: PaletteItem[] = tools.map((t) => ({
    key: `tool:${t.name}`,
    label: t.name,
    type: 'tool_call',
    fields: { tool: t.name },
    description: t.description ?? `MCP tool ${t.name}`,
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
      title={item.description ? `${item.description}. Enter or click adds it; or drag it onto the canvas.` : undefined}
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
  const [query, setQuery] = useState('');
  const all = paletteItems(agents, tools);
  const items = {
    types: filterItems(all.types, query),
    skills: filterItems(all.skills, query),
    tools: filterItems(all.tools, query),
  };
  const none = query.trim() !== '' && items.types.length + items.skills.length + items.tools.length === 0;
  return (
    <aside className="palette" aria-label="Palette">
      <input
        type="search"
        className="palette-search"
        aria-label="Search nodes, skills and tools"
        placeholder="Search…"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape' && query) {
            e.stopPropagation();
            setQuery('');
          }
          // Enter adds the first match.
          if (e.key === 'Enter') {
            const first = items.types[0] ?? items.skills[0] ?? items.tools[0];
            if (first) onAdd(first);
          }
        }}
      />
      {none && <p className="muted small">Nothing matches "{query}".</p>}
      {items.types.length > 0 && <h2>Nodes</h2>}
      {items.types.map((i) => (
        <Item key={i.key} item={i} onAdd={onAdd} />
      ))}
      {(items.skills.length > 0 || !query) && <h2>Agent skills</h2>}
      {all.skills.length === 0 && !query && <p className="muted small">No agents registered.</p>}
      {items.skills.map((i) => (
        <Item key={i.key} item={i} onAdd={onAdd} />
      ))}
      {(items.tools.length > 0 || !query) && <h2>Tools</h2>}
      {all.tools.length === 0 && !query && <p className="muted small">No MCP tools registered.</p>}
      {items.tools.map((i) => (
        <Item key={i.key} item={i} onAdd={onAdd} />
      ))}
    </aside>
  );
}
