/**
 * Property tests: the compiler against a deliberately simple reference on random graphs.
 * Reference: DFS three-colour cycle check; longest paths by brute-force relaxation (Bellman-Ford
 * style, |V| rounds), which is obviously correct and independent of Kahn's order.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Reachability } from '../src/compiler/reachability.ts';
import { compile } from '../src/index.ts';

interface G {
  n: number;
  edges: [number, number][];
  weights: number[];
}

const graphArb = (acyclicOnly: boolean) =>
  fc
    .integer({ min: 1, max: 14 })
    .chain((n) =>
      fc.record({
        n: fc.constant(n),
        edges: fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: n - 1 }), fc.integer({ min: 0, max: n - 1 })), {
          maxLength: n * 3,
          selector: ([a, b]) => `${a}>${b}`,
        }),
        weights: fc.array(fc.integer({ min: 0, max: 50 }), { minLength: n, maxLength: n }),
      }),
    )
    .map((g): G => {
      // no self-loops (INVALID_EDGE), and optionally only forward edges under a random relabelling
      let edges = g.edges.filter(([a, b]) => a !== b);
      if (acyclicOnly) edges = edges.map(([a, b]) => (a < b ? [a, b] : [b, a]) as [number, number]);
      const seen = new Set<string>();
      edges = edges.filter(([a, b]) => !seen.has(`${a}>${b}`) && seen.add(`${a}>${b}`));
      // connect isolated nodes so UNREACHABLE_NODE does not mask the property under test
      const touched = new Set(edges.flat());
      const add = (a: number, b: number) => {
        if (seen.has(`${a}>${b}`)) return;
        seen.add(`${a}>${b}`);
        edges.push([a, b]);
        touched.add(a).add(b);
      };
      for (let i = 1; i < g.n; i++) if (!touched.has(i)) add(0, i);
      if (g.n > 1 && !touched.has(0)) add(0, 1);
      return { ...g, edges };
    });

const toDef = (g: G) => ({
  name: 'prop',
  nodes: Array.from({ length: g.n }, (_, i) => ({ id: `n${i}`, type: 'parallel', estimatedMs: g.weights[i] })),
  edges: g.edges.map(([a, b]) => ({ from: `n${a}`, to: `n${b}` })),
});

function hasCycle(g: G): boolean {
  const succ = Array.from({ length: g.n }, () => [] as number[]);
  for (const [a, b] of g.edges) succ[a]?.push(b);
  const colour = new Array(g.n).fill(0);
  const visit = (v: number): boolean => {
    colour[v] = 1;
    for (const s of succ[v] ?? []) if (colour[s] === 1 || (colour[s] === 0 && visit(s))) return true;
    colour[v] = 2;
    return false;
  };
  for (let v = 0; v < g.n; v++) if (colour[v] === 0 && visit(v)) return true;
  return false;
}

/** Longest path ending at each node: by edge count (unit weights) or by node weights. */
function longest(g: G, weight: (i: number) => number): number[] {
  const d = Array.from({ length: g.n }, (_, i) => weight(i));
  for (let round = 0; round < g.n; round++)
    for (const [a, b] of g.edges) d[b] = Math.max(d[b] as number, (d[a] as number) + weight(b));
  return d;
}

describe('compiler properties on random graphs', () => {
  it('reports CYCLE exactly when the graph has a cycle, and the cycle is real', () => {
    fc.assert(
      fc.property(graphArb(false), (g) => {
        const r = compile(toDef(g));
        const cyc = r.errors.find((e) => e.code === 'CYCLE');
        expect(cyc !== undefined).toBe(hasCycle(g));
        if (cyc) {
          const es = new Set(g.edges.map(([a, b]) => `n${a}>n${b}`));
          const ns = cyc.nodes ?? [];
          expect(new Set(ns).size).toBe(ns.length);
          ns.forEach((v, i) => {
            expect(es.has(`${v}>${ns[(i + 1) % ns.length]}`)).toBe(true);
          });
        } else {
          expect(r.errors).toEqual([]);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('the order respects every edge, levels are longest-path depths, the critical path is the longest weighted path', () => {
    fc.assert(
      fc.property(graphArb(true), (g) => {
        const r = compile(toDef(g));
        if (!r.ok) throw new Error(JSON.stringify(r.errors));
        const c = r.compiled;
        expect([...c.order].sort((a, b) => a - b)).toEqual(Array.from({ length: g.n }, (_, i) => i));
        const pos = new Map(c.order.map((v, k) => [v, k]));
        for (const [a, b] of g.edges) expect(pos.get(a) as number).toBeLessThan(pos.get(b) as number);

        const depth = longest(g, () => 1).map((x) => x - 1);
        c.nodes.forEach((node, i) => {
          expect(node.level).toBe(depth[i]);
        });
        for (const [k, l] of c.levels.entries()) for (const v of l) expect(depth[v]).toBe(k);

        const best = Math.max(...longest(g, (i) => g.weights[i] as number));
        expect(c.criticalPath.estimatedMs).toBe(best);
        const path = c.criticalPath.nodes.map((id) => Number(id.slice(1)));
        const es = new Set(g.edges.map(([a, b]) => `${a}>${b}`));
        for (let k = 1; k < path.length; k++) expect(es.has(`${path[k - 1]}>${path[k]}`)).toBe(true);
        expect(path.reduce((s, v) => s + (g.weights[v] as number), 0)).toBe(best);
      }),
      { numRuns: 400 },
    );
  });

  it('isAncestor and ancestorsOf agree with plain reachability', () => {
    fc.assert(
      fc.property(graphArb(true), (g) => {
        const c = (compile(toDef(g)) as { compiled: ReturnType<typeof compile>['compiled'] }).compiled;
        if (!c) throw new Error('expected a valid graph');
        const reach = Array.from({ length: g.n }, () => new Set<number>());
        for (let round = 0; round < g.n; round++)
          for (const [a, b] of g.edges) {
            reach[b]?.add(a);
            for (const x of reach[a] ?? []) reach[b]?.add(x);
          }
        for (let d = 0; d < g.n; d++) {
          expect(c.ancestorsOf(d)).toEqual([...(reach[d] ?? [])].sort((x, y) => x - y));
          for (let a = 0; a < g.n; a++) expect(c.isAncestor(a, d)).toBe(reach[d]?.has(a) ?? false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the batched reachability pass agrees with the search, for any budget', () => {
    fc.assert(
      fc.property(graphArb(true), fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 80 }), (g, pairs) => {
        const r = compile(toDef(g));
        if (!r.ok) throw new Error(JSON.stringify(r.errors));
        const c = r.compiled;
        const reach = new Reachability(
          c.order,
          Int32Array.from(c.nodes.map((x) => x.level)),
          c.nodes.map((x) => x.predecessors),
        );
        const as = pairs.map(([a]) => a % g.n);
        const ds = pairs.map(([, d]) => d % g.n);
        const batched = reach.batch(as, ds);
        as.forEach((a, i) => {
          const d = ds[i] as number;
          const truth = c.isAncestor(a, d);
          expect(batched[i]).toBe(truth);
          const local = reach.tryIsAncestor(a, d, 1);
          if (local !== -1) expect(local === 1).toBe(truth);
        });
      }),
      { numRuns: 300 },
    );
  });
});
