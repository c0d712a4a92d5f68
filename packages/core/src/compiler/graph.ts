/**
 * Second pass: the graph. Node ids are indexed, edges resolved to node indexes (unknown ends,
 * self-loops and duplicates reported), then Kahn's algorithm gives a topological order or, when
 * some nodes remain, one cycle in order. Everything here is linear in nodes + edges.
 */
import type { EdgeDefinition } from '../definition.ts';
import { pointer, shortName } from './pointer.ts';
import type { Problems } from './problems.ts';

export interface Graph {
  readonly n: number;
  readonly indexById: Map<string, number>;
  /** Per node: whether it takes part (it has a string id, the first with that id). */
  readonly member: Uint8Array;
  /** Accepted edges: definition edge index, and resolved ends. */
  readonly edgeIndex: number[];
  readonly edgeFrom: number[];
  readonly edgeTo: number[];
  readonly incoming: number[][];
  readonly outgoing: number[][];
  readonly predecessors: number[][];
  readonly successors: number[][];
}

export function buildGraph(
  ids: readonly (string | undefined)[],
  edges: readonly (EdgeDefinition | undefined)[],
  p: Problems,
): Graph {
  const n = ids.length;
  const indexById = new Map<string, number>();
  const member = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const id = ids[i];
    if (id === undefined) continue;
    const first = indexById.get(id);
    if (first === undefined) {
      indexById.set(id, i);
      member[i] = 1;
    } else {
      p.error(
        'DUPLICATE_NODE_ID',
        `node id "${shortName(id)}" is already used by nodes/${first}; give each node its own id`,
        pointer('nodes', i, 'id'),
        [shortName(id)],
      );
    }
  }

  // Pass 1: resolve ends; reject unknown ends and self-loops.
  const m = edges.length;
  const efrom = new Int32Array(m).fill(-1);
  const eto = new Int32Array(m).fill(-1);
  const outCount = new Int32Array(n + 1);
  for (let j = 0; j < m; j++) {
    const e = edges[j];
    if (!e) continue;
    const from = indexById.get(e.from);
    const to = indexById.get(e.to);
    if (from === undefined) {
      p.error('UNKNOWN_NODE_REFERENCE', `edge from "${shortName(e.from)}": no node has that id`, pointer('edges', j, 'from'), [
        shortName(e.from),
      ]);
    }
    if (to === undefined) {
      p.error('UNKNOWN_NODE_REFERENCE', `edge to "${shortName(e.to)}": no node has that id`, pointer('edges', j, 'to'), [
        shortName(e.to),
      ]);
    }
    if (from === undefined || to === undefined) continue;
    if (from === to) {
      p.error(
        'INVALID_EDGE',
        `edge from "${shortName(e.from)}" to itself: a node cannot depend on itself; remove the edge`,
        pointer('edges', j),
        [shortName(e.from)],
      );
      continue;
    }
    efrom[j] = from;
    eto[j] = to;
    outCount[from + 1] = (outCount[from + 1] as number) + 1;
  }

  // Duplicates: group edges by source (a stable counting sort into typed arrays, no per-node
  // allocation), then one stamp per target finds a repeated pair in O(edges).
  for (let i = 0; i < n; i++) outCount[i + 1] = (outCount[i + 1] as number) + (outCount[i] as number);
  const bySource = new Int32Array(outCount[n] as number);
  const fillAt = outCount.slice(0, n);
  for (let j = 0; j < m; j++) {
    const from = efrom[j] as number;
    if (from < 0) continue;
    bySource[fillAt[from] as number] = j;
    fillAt[from] = (fillAt[from] as number) + 1;
  }
  const stamp = new Int32Array(n).fill(-1);
  const firstEdge = new Int32Array(n);
  const outDeg = new Int32Array(n);
  const inDeg = new Int32Array(n);
  for (let s = 0; s < n; s++) {
    for (let x = outCount[s] as number; x < (outCount[s + 1] as number); x++) {
      const j = bySource[x] as number;
      const to = eto[j] as number;
      if (stamp[to] === s) {
        const e = edges[j] as EdgeDefinition;
        p.error(
          'INVALID_EDGE',
          `edge ${shortName(e.from)} → ${shortName(e.to)} repeats edges/${firstEdge[to]}; keep one (combine conditions with "and"/"or")`,
          pointer('edges', j),
          [shortName(e.from), shortName(e.to)],
        );
        efrom[j] = -1;
        continue;
      }
      stamp[to] = s;
      firstEdge[to] = j;
      outDeg[s] = (outDeg[s] as number) + 1;
      inDeg[to] = (inDeg[to] as number) + 1;
    }
  }
  const accepted: number[] = [];
  for (let j = 0; j < m; j++) if ((efrom[j] as number) >= 0) accepted.push(j);

  // Pass 2: fill exact-size arrays, in edge order.
  const k = accepted.length;
  const g: Graph = {
    n,
    indexById,
    member,
    edgeIndex: accepted,
    edgeFrom: new Array<number>(k),
    edgeTo: new Array<number>(k),
    incoming: new Array<number[]>(n),
    outgoing: new Array<number[]>(n),
    predecessors: new Array<number[]>(n),
    successors: new Array<number[]>(n),
  };
  for (let i = 0; i < n; i++) {
    g.incoming[i] = new Array<number>(inDeg[i] as number);
    g.predecessors[i] = new Array<number>(inDeg[i] as number);
    g.outgoing[i] = new Array<number>(outDeg[i] as number);
    g.successors[i] = new Array<number>(outDeg[i] as number);
  }
  outDeg.fill(0);
  inDeg.fill(0);
  for (let x = 0; x < k; x++) {
    const j = accepted[x] as number;
    const from = efrom[j] as number;
    const to = eto[j] as number;
    g.edgeFrom[x] = from;
    g.edgeTo[x] = to;
    const o = outDeg[from] as number;
    outDeg[from] = o + 1;
    (g.outgoing[from] as number[])[o] = x;
    (g.successors[from] as number[])[o] = to;
    const q = inDeg[to] as number;
    inDeg[to] = q + 1;
    (g.incoming[to] as number[])[q] = x;
    (g.predecessors[to] as number[])[q] = from;
  }
  return g;
}

export interface TopoResult {
  /** Topological order of the member nodes that are not on or behind a cycle. */
  order: number[];
  /** One cycle in order (empty when the graph is acyclic). */
  cycle: number[];
}

/** Kahn's algorithm; ties are broken by definition order, so the order is deterministic. */
export function topoSort(g: Graph): TopoResult {
  const indeg = new Int32Array(g.n);
  let members = 0;
  for (let i = 0; i < g.n; i++) {
    if (!g.member[i]) continue;
    members++;
    indeg[i] = (g.predecessors[i] as number[]).length;
  }
  const order: number[] = [];
  for (let i = 0; i < g.n; i++) if (g.member[i] && indeg[i] === 0) order.push(i);
  for (let head = 0; head < order.length; head++) {
    for (const s of g.successors[order[head] as number] as number[]) {
      if (--(indeg[s] as number) === 0) order.push(s);
    }
  }
  if (order.length === members) return { order, cycle: [] };
  return { order, cycle: findCycle(g, indeg) };
}

/**
 * Every node Kahn left behind has a predecessor that was also left behind, so walking
 * predecessors from any of them must revisit a node: the walk between the two visits is a cycle.
 */
function findCycle(g: Graph, indeg: Int32Array): number[] {
  let start = -1;
  for (let i = 0; i < g.n; i++) {
    if (g.member[i] && (indeg[i] as number) > 0) {
      start = i;
      break;
    }
  }
  const stepAt = new Map<number, number>();
  const walk: number[] = [];
  let cur = start;
  while (!stepAt.has(cur)) {
    stepAt.set(cur, walk.length);
    walk.push(cur);
    const next = (g.predecessors[cur] as number[]).find((q) => (indeg[q] as number) > 0);
    if (next === undefined) return [];
    cur = next;
  }
  // walk[k..] follows predecessors; reversed it follows edges.
  return walk.slice(stepAt.get(cur)).reverse();
}

/** Longest-path depth of each node (entries are 0), computed along the topological order. */
export function computeLevels(g: Graph, order: readonly number[]): Int32Array {
  const level = new Int32Array(g.n);
  for (const v of order) {
    let l = 0;
    for (const q of g.predecessors[v] as number[]) if ((level[q] as number) + 1 > l) l = (level[q] as number) + 1;
    level[v] = l;
  }
  return level;
}

/** The longest path weighted by each node's estimate: dynamic programming along the order. */
export function criticalPath(g: Graph, order: readonly number[], weight: ArrayLike<number>): { nodes: number[]; total: number } {
  const dist = new Float64Array(g.n);
  const via = new Int32Array(g.n).fill(-1);
  let best = -1;
  for (const v of order) {
    let d = 0;
    let from = -1;
    for (const q of g.predecessors[v] as number[]) {
      if (from < 0 || (dist[q] as number) > d) {
        d = dist[q] as number;
        from = q;
      }
    }
    dist[v] = d + (weight[v] as number);
    via[v] = from;
    if (best < 0 || (dist[v] as number) > (dist[best] as number)) best = v;
  }
  const nodes: number[] = [];
  for (let v = best; v >= 0; v = via[v] as number) nodes.push(v);
  nodes.reverse();
  return { nodes, total: best < 0 ? 0 : (dist[best] as number) };
}
