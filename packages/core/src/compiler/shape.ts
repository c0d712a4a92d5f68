/**
 * First pass: the document's shape. Top-level fields are checked with the zod schema; nodes and
 * edges one by one, so one bad node yields precise codes (INVALID_NODE_TYPE, MISSING_FIELD,
 * INVALID_NODE_ID) and does not hide problems elsewhere.
 */
import { z } from 'zod';
import {
  type EdgeDefinition,
  MAP_BODY_TYPES,
  MAX_NODE_ID_LENGTH,
  type MapBodyType,
  mapBodySchema,
  mapNodeSchema,
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
// A map's `do` body is checked on its own (checkMapBody), so that its problems get precise codes.
NODE_SCHEMAS.map = mapNodeSchema.extend({ do: z.unknown() }) as unknown as z.ZodType<NodeDefinition>;

const BODY_SCHEMAS: Record<MapBodyType, z.ZodObject> = Object.fromEntries(
  mapBodySchema.options.map((o) => [o.shape.type.value, o]),
) as unknown as Record<MapBodyType, z.ZodObject>;
const BODY_TYPE_SET: ReadonlySet<string> = new Set(MAP_BODY_TYPES);
/** Fields a map node takes in its `do` body instead of on itself. */
const MAP_MISPLACED: Record<string, string> = {
  retry: 'retries apply per item: move "retry" into "do"',
  timeoutMs: 'timeouts apply per item attempt: move "timeoutMs" into "do"',
  input: 'a map reads its items from "items"; put the per-item input (with $item and $index) in "do.input"',
};

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
  let bodyOk = true;
  if (nodeType === 'map') {
    for (const key of Object.keys(MAP_MISPLACED)) {
      if (node[key] !== undefined) {
        p.error('SCHEMA', `"${key}" on a map node: ${MAP_MISPLACED[key]}`, pointer('nodes', i, key), label);
        bodyOk = false;
      }
    }
    if (node.do !== undefined) bodyOk = checkMapBody(node.do, i, p, label) && bodyOk;
  }
  const parsed = NODE_SCHEMAS[nodeType].safeParse(raw);
  if (parsed.success && !bodyOk) {
    // The node's own fields are fine; its body's problems are reported.
  } else if (parsed.success) {
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

/**
 * A map's `do` body: one node body of a task type, without an id. Reports INVALID_NODE_TYPE,
 * MISSING_FIELD and SCHEMA with pointers below `/nodes/i/do`. Returns whether it is usable.
 */
function checkMapBody(raw: unknown, i: number, p: Problems, label: string[] | undefined): boolean {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    p.error(
      'SCHEMA',
      `"do" is the node body run per item, an object with a "type" (${MAP_BODY_TYPES.join(', ')}); got ${jsonType(raw)}`,
      pointer('nodes', i, 'do'),
      label,
    );
    return false;
  }
  const body = raw as Record<string, unknown>;
  const type = body.type;
  if (typeof type !== 'string' || !BODY_TYPE_SET.has(type)) {
    const got = typeof type === 'string' ? `"${shortName(type)}"` : jsonType(type);
    const hint = type === 'map' ? '; to nest a map, run a workflow that contains one' : '';
    p.error(
      'INVALID_NODE_TYPE',
      `a map's "do" body has type ${got}; it must be one of ${MAP_BODY_TYPES.join(', ')}${hint}`,
      pointer('nodes', i, 'do', 'type'),
      label,
    );
    return false;
  }
  let ok = true;
  if (body.id !== undefined) {
    p.error(
      'SCHEMA',
      `a map's "do" body has no "id": items are named by the map's id and their index`,
      pointer('nodes', i, 'do', 'id'),
      label,
    );
    ok = false;
  }
  const schema = BODY_SCHEMAS[type as MapBodyType];
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    ok = false;
    const typeFields = NODE_TYPE_FIELDS[type as MapBodyType].shape as Record<string, unknown>;
    for (const issue of parsed.error.issues) {
      const field = issue.path[0];
      if (issue.path.length === 1 && typeof field === 'string' && field in typeFields && body[field] === undefined) {
        p.error('MISSING_FIELD', `a ${type} body needs "${field}"`, pointer('nodes', i, 'do', field), label);
      } else {
        reportIssue(p, issue, ['nodes', i, 'do'], label);
      }
    }
  }
  const known = new Set(Object.keys(schema.shape));
  for (const key of Object.keys(body)) {
    if (!known.has(key) && key !== 'id') {
      p.warn('SCHEMA', `unknown field "${shortName(key)}" on a ${type} body is ignored`, pointer('nodes', i, 'do', key), label);
    }
  }
  return ok;
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
