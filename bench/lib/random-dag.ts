/**
 * Generated workflows for the compile benchmark: n nodes, about three edges per node, edges
 * only from earlier to later nodes (so it is a DAG), every node bound to its predecessors.
 */
export interface DagOptions {
  nodes: number;
  /** Incoming edges per node (except the first few). */
  fanIn?: number;
  /** How far back a predecessor may be, in definition order. */
  window?: number;
  /** Every k-th node is a JSONata `condition` (0: none). Each expression source is distinct. */
  expressionEvery?: number;
  seed?: number;
  /** Every node also reads `$n0.config`: a far ancestor, the worst case for local searches. */
  readFirst?: boolean;
}

export function randomDag(o: DagOptions): { name: string; nodes: unknown[]; edges: unknown[] } {
  const fanIn = o.fanIn ?? 3;
  const window = o.window ?? 40;
  let s = o.seed ?? 42;
  const rnd = () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
  const nodes: unknown[] = [];
  const edges: unknown[] = [];
  for (let i = 0; i < o.nodes; i++) {
    const preds = new Set<number>();
    if (i > 0) preds.add(i - 1);
    while (i > 0 && preds.size < Math.min(fanIn, i)) preds.add(Math.max(0, i - 1 - Math.floor(rnd() * window)));
    for (const p of preds) edges.push({ from: `n${p}`, to: `n${i}` });
    const ps = [...preds];
    const far = ps[ps.length - 1] ?? 0;
    const input =
      i === 0
        ? { query: '$context.query' }
        : {
            a: `$n${ps[0]}.value`,
            b: `$n${far}.items[0].id`,
            q: '$context.query',
            limit: 10,
            ...(o.readFirst ? { cfg: '$n0.config' } : {}),
          };
    if (o.expressionEvery && i > 0 && i % o.expressionEvery === 0) {
      nodes.push({ id: `n${i}`, type: 'condition', expression: `$n${ps[0]}.value > ${i}`, input });
    } else {
      nodes.push({ id: `n${i}`, type: 'tool_call', tool: 'http.request', input, estimatedMs: 1 + (i % 7) });
    }
  }
  return { name: `random-${o.nodes}`, nodes, edges };
}
