/**
 * First pass: the document's shape. Top-level fields are checked with the zod schema; nodes and
 * edges one by one, so one bad node yields precise codes (INVALID_NODE_TYPE, MISSING_FIELD,
 * INVALID_NODE_ID) and does not hide problems elsewhere.
 */
import { z } from 'zod';
import {
  type EdgeDefinition,
  MAX_NODE_ID_LENGTH,
  NODE_ID_PATTERN,
  NODE_TYPE_FIELDS,
  NODE_TYPES,
  type NodeDefinition,
  type NodeType,
  nodeSchema,
  workflowDefinitionSchema,
} from '../definition.ts';
import { isReservedName } from '../expressions/builtins.ts';
import { jsonType, pointer, shortName } from './pointer.ts';
import type { Problems } from './problems.ts';

/** The definition without nodes and edges, which are checked one at a time. */
const shellSchema = workflowDefinitionSchema.extend({
  nodes: z.array(z.unknown()).min(1),
  edges: z.array(z.unknown()).optional(),
});

const NODE_SCHEMAS: Record<NodeType, z.ZodType<NodeDefinition>> = Object.fromEntries(
  nodeSchema.options.map((o) => [o.shape.type.value, o as z.ZodType<NodeDefinition>]),
) as Record<NodeType, z.ZodType<NodeDefinition>>;

const NODE_TYPE_SET: ReadonlySet<string> = new Set(NODE_TYPES);
const EDGE_KEYS: ReadonlySet<string> = new Set(['from', 'to', 'condition', 'label']);

/** Fields known on each node type, to warn about typos such as `expresion`. */
const KNOWN_NODE_FIELDS: Record<NodeType, ReadonlySet<string>> = Object.fromEntries(
  nodeSchema.options.map((o) => [o.shape.type.value, new Set(Object.keys(o.shape))]),
) as unknown as Record<NodeType, ReadonlySet<string>>;

export interface ShapeResult {
  /** The parsed top level (nodes and edges excluded), when it has the right shape. */
  top: z.output<typeof shellSchema> | undefined;
  /** Per definition index: the node's id when it is a string. */
  ids: (string | undefined)[];
  /** Per definition index: the parsed node, when its shape is right. */
  nodes: (NodeDefinition | undefined)[];
  /** Per edge index: the parsed edge, when its shape is right. */
  edges: (EdgeDefinition | undefined)[];
}

export function checkShape(doc: unknown, p: Problems): ShapeResult {
  const result: ShapeResult = { top: undefined, ids: [], nodes: [], edges: [] };
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    p.error('SCHEMA', `a workflow definition is a JSON object with "name", "nodes" and "edges"; got ${jsonType(doc)}`, '');
    return result;
  }
  const parsed = shellSchema.safeParse(doc);
  if (parsed.success) result.top = parsed.data;
  else for (const issue of parsed.error.issues) reportIssue(p, issue, []);

  const rawNodes = (doc as { nodes?: unknown }).nodes;
  if (Array.isArray(rawNodes)) {
    for (let i = 0; i < rawNodes.length; i++) checkNode(rawNodes[i], i, p, result);
  }
  const rawEdges = (doc as { edges?: unknown }).edges;
  if (Array.isArray(rawEdges)) {
    for (let j = 0; j < rawEdges.length; j++) result.edges.push(checkEdge(rawEdges[j], j, p));
  }
  return result;
}

function checkNode(raw: unknown, i: number, p: Problems, out: ShapeResult): void {
  out.ids.push(undefined);
  out.nodes.push(undefined);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    p.error('SCHEMA', `a node is an object with "id" and "type"; got ${jsonType(raw)}`, pointer('nodes', i));
    return;
  }
  const node = raw as Record<string, unknown>;
  const id = node.id;
  let idOk = false;
  if (typeof id !== 'string') {
    p.error('SCHEMA', `node is missing its "id" (a string such as "fetch_data"); got ${jsonType(id)}`, pointer('nodes', i, 'id'));
  } else {
    out.ids[i] = id;
    idOk = checkNodeId(id, i, p);
  }
  const label = typeof id === 'string' ? [shortName(id)] : undefined;
  const type = node.type;
  if (typeof type !== 'string' || !NODE_TYPE_SET.has(type)) {
    const got = typeof type === 'string' ? `"${shortName(type)}"` : jsonType(type);
    p.error('INVALID_NODE_TYPE', `node type ${got} is not one of ${NODE_TYPES.join(', ')}`, pointer('nodes', i, 'type'), label);
    return;
  }
  const nodeType = type as NodeType;
  const parsed = NODE_SCHEMAS[nodeType].safeParse(raw);
  if (parsed.success) {
    // The validated object itself, not zod's copy: nodes are many, and the copy only differs by
    // dropping unknown keys, which are reported as warnings below.
    if (idOk) out.nodes[i] = raw as NodeDefinition;
  } else {
    const typeFields = NODE_TYPE_FIELDS[nodeType].shape as Record<string, unknown>;
    for (const issue of parsed.error.issues) {
      const field = issue.path[0];
      if (issue.path.length === 1 && typeof field === 'string' && field in typeFields && node[field] === undefined) {
        p.error('MISSING_FIELD', `a ${nodeType} node needs "${field}"`, pointer('nodes', i, field), label);
      } else if (field !== 'id') {
        reportIssue(p, issue, ['nodes', i], label);
      }
    }
  }
  const known = KNOWN_NODE_FIELDS[nodeType];
  for (const key of Object.keys(node)) {
    if (!known.has(key)) {
      p.warn('SCHEMA', `unknown field "${shortName(key)}" on a ${nodeType} node is ignored`, pointer('nodes', i, key), label);
    }
  }
}

/** Pattern, length and reserved names. Returns whether the id is usable. */
function checkNodeId(id: string, i: number, p: Problems): boolean {
  if (id.length > MAX_NODE_ID_LENGTH) {
    p.error(
      'INVALID_NODE_ID',
      `node id "${shortName(id)}" is longer than ${MAX_NODE_ID_LENGTH} characters; use a shorter id`,
      pointer('nodes', i, 'id'),
      [shortName(id)],
    );
    return false;
  }
  if (!NODE_ID_PATTERN.test(id)) {
    p.error(
      'INVALID_NODE_ID',
      `node id "${shortName(id)}" must start with a letter or "_" and contain only letters, digits and "_" (e.g. "fetch_data")`,
      pointer('nodes', i, 'id'),
      [id],
    );
    return false;
  }
  if (isReservedName(id)) {
    p.error(
      'INVALID_NODE_ID',
      `node id "${id}" is reserved (it names a scope variable or a JSONata function); rename the node`,
      pointer('nodes', i, 'id'),
      [id],
    );
    return false;
  }
  return true;
}

/** Edges are many (about three per node), so they are checked by hand rather than through zod. */
function checkEdge(raw: unknown, j: number, p: Problems): EdgeDefinition | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    p.error('SCHEMA', `an edge is an object { "from", "to" }; got ${jsonType(raw)}`, pointer('edges', j));
    return undefined;
  }
  const e = raw as Record<string, unknown>;
  let ok = true;
  for (const key of ['from', 'to'] as const) {
    if (typeof e[key] !== 'string') {
      p.error('SCHEMA', `edge needs "${key}", the id of a node; got ${jsonType(e[key])}`, pointer('edges', j, key));
      ok = false;
    }
  }
  if (e.condition !== undefined && typeof e.condition !== 'string') {
    p.error(
      'SCHEMA',
      `edge "condition" must be a JSONata expression string; got ${jsonType(e.condition)}`,
      pointer('edges', j, 'condition'),
    );
    ok = false;
  }
  if (e.label !== undefined && (typeof e.label !== 'string' || e.label.length > 200)) {
    p.error('SCHEMA', 'edge "label" must be a string of at most 200 characters', pointer('edges', j, 'label'));
    ok = false;
  }
  for (const key in e) {
    if (!EDGE_KEYS.has(key)) {
      p.error(
        'SCHEMA',
        `unknown field "${shortName(key)}" on an edge; edges have from, to, condition and label`,
        pointer('edges', j, key),
      );
      ok = false;
    }
  }
  // Validated: the object itself is the edge (no copy; edges are many).
  return ok ? (e as unknown as EdgeDefinition) : undefined;
}

function reportIssue(p: Problems, issue: z.core.$ZodIssue, prefix: (string | number)[], nodes?: string[]): void {
  const path = [...prefix, ...issue.path.map((s) => (typeof s === 'symbol' ? String(s) : s))];
  // A missing nodes/edges array at the top level is the commonest shape mistake: say so plainly.
  const where = issue.path.length > 0 ? `"${issue.path.join('.')}": ` : '';
  let message = `${where}${issue.message}`;
  if (issue.code === 'unrecognized_keys') {
    message = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${shortName(k)}"`).join(', ')}${where ? ` in ${where.slice(0, -2)}` : ''}; remove or correct ${issue.keys.length > 1 ? 'them' : 'it'}`;
  }
  p.error('SCHEMA', message, pointer(...path), nodes);
}
