/**
 * Between the definition format (SPEC §1) and the editor document. Import accepts anything
 * JSON-shaped and reports what it cannot read; nodes without a `position` are laid out.
 */
import type { WorkflowDefinitionInput } from '@trellis/core';
import type { DocMeta, DraftEdge, DraftNode, EditorDoc } from './doc.ts';
import { layoutPositions } from './layout.ts';

export class ImportError extends Error {
  readonly code = 'IMPORT_INVALID';
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses JSON text into a document; throws ImportError with a message saying what to fix. */
export function docFromJson(text: string): EditorDoc {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ImportError(`The file is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  return docFromDefinition(value);
}

export function docFromDefinition(value: unknown): EditorDoc {
  if (!isObj(value)) throw new ImportError('A workflow definition is a JSON object with "name", "nodes" and "edges".');
  if (!Array.isArray(value.nodes)) throw new ImportError('The definition has no "nodes" array.');
  if (value.edges !== undefined && !Array.isArray(value.edges)) throw new ImportError('"edges" must be an array.');
  const nodes: DraftNode[] = value.nodes.map((n, i) => {
    if (!isObj(n)) throw new ImportError(`nodes[${i}] is not an object.`);
    const { position, ...rest } = n;
    const pos =
      isObj(position) && typeof position.x === 'number' && typeof position.y === 'number'
        ? { x: position.x, y: position.y }
        : undefined;
    return { ...rest, id: String(n.id ?? ''), type: String(n.type ?? ''), position: pos ?? { x: Number.NaN, y: Number.NaN } };
  });
  const edges: DraftEdge[] = ((value.edges as unknown[] | undefined) ?? []).map((e, i) => {
    if (!isObj(e)) throw new ImportError(`edges[${i}] is not an object.`);
    const edge: DraftEdge = { ...(e as object), from: String(e.from ?? ''), to: String(e.to ?? '') } as DraftEdge;
    return edge;
  });
  if (nodes.some((n) => Number.isNaN(n.position.x))) {
    const laid = layoutPositions(nodes, edges);
    for (const n of nodes) if (Number.isNaN(n.position.x)) n.position = laid[n.id] ?? { x: 0, y: 0 };
  }
  const { nodes: _n, edges: _e, ...metaRest } = value;
  const meta = { ...metaRest, name: typeof value.name === 'string' ? value.name : '' } as DocMeta;
  return { meta, nodes, edges };
}

/** The definition to save, validate or export; positions are kept as layout hints. */
export function definitionFromDoc(doc: EditorDoc): WorkflowDefinitionInput {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc.meta)) if (v !== undefined) out[k] = v;
  out.nodes = doc.nodes.map((n) => ({ ...n, position: { x: Math.round(n.position.x), y: Math.round(n.position.y) } }));
  out.edges = doc.edges.map((e) => {
    const edge: Record<string, unknown> = { from: e.from, to: e.to };
    if (e.condition !== undefined && e.condition !== '') edge.condition = e.condition;
    if (e.label !== undefined && e.label !== '') edge.label = e.label;
    return edge;
  });
  return out as unknown as WorkflowDefinitionInput;
}
