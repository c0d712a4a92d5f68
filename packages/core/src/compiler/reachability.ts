/**
 * Ancestor queries without a transitive closure. Storing every node's ancestor set is
 * quadratic in memory (50,000 nodes → 2.5 billion bits), so queries are answered on demand:
 *
 * 1. cheap negative cuts: an ancestor comes strictly earlier in the topological order and at a
 *    strictly lower level;
 * 2. the common positive case: a direct predecessor;
 * 3. a backward search from the descendant that never expands a node ordered at or before the
 *    candidate (it cannot lead to it), with a stamp array instead of a visited set.
 *
 * Step 3 is bounded when called with a budget. The compiler checks thousands of bindings at
 * once, and a pattern such as "every node reads `$start`" would make unbounded searches
 * quadratic, so queries that exceed the budget are answered together by `batch`: targets are
 * taken 32 at a time, and one pass along the topological order propagates a 32-bit mask per
 * node (bit k set = the k-th target is this node or one of its ancestors). That costs
 * O((nodes + edges) × targets / 32) in the worst case and O(nodes) memory.
 */
export class Reachability {
  readonly #order: readonly number[];
  readonly #pos: Int32Array;
  readonly #level: Int32Array;
  readonly #preds: readonly (readonly number[])[];
  readonly #stamp: Uint32Array;
  #epoch = 0;
  readonly #stack: number[] = [];

  constructor(order: readonly number[], level: Int32Array, preds: readonly (readonly number[])[]) {
    this.#order = order;
    this.#pos = new Int32Array(level.length).fill(-1);
    for (let k = 0; k < order.length; k++) this.#pos[order[k] as number] = k;
    this.#level = level;
    this.#preds = preds;
    this.#stamp = new Uint32Array(level.length);
  }

  /** True when `a` has a path to `d` (not reflexive). */
  isAncestor(a: number, d: number): boolean {
    return this.tryIsAncestor(a, d, Number.POSITIVE_INFINITY) === 1;
  }

  /** 1 yes, 0 no, -1 undecided after visiting `budget` nodes. */
  tryIsAncestor(a: number, d: number, budget: number): 1 | 0 | -1 {
    const pos = this.#pos;
    const level = this.#level;
    const pa = pos[a] as number;
    if (a === d || pa < 0 || pa >= (pos[d] as number) || (level[a] as number) >= (level[d] as number)) return 0;
    const direct = this.#preds[d] as readonly number[];
    for (const q of direct) if (q === a) return 1;
    const la = level[a] as number;
    if (++this.#epoch === 0xffffffff) {
      this.#stamp.fill(0);
      this.#epoch = 1;
    }
    const epoch = this.#epoch;
    const stack = this.#stack;
    stack.length = 0;
    stack.push(d);
    let visited = 0;
    while (stack.length > 0) {
      const v = stack.pop() as number;
      if (++visited > budget) return -1;
      for (const q of this.#preds[v] as readonly number[]) {
        if (q === a) return 1;
        // q can only lead to a if it comes after a in the order and lies deeper than a.
        if ((pos[q] as number) <= pa || (level[q] as number) <= la || this.#stamp[q] === epoch) continue;
        this.#stamp[q] = epoch;
        stack.push(q);
      }
    }
    return 0;
  }

  /** Answers `isAncestor(as[i], ds[i])` for every i, word-parallel over 32 targets at a time. */
  batch(as: readonly number[], ds: readonly number[]): boolean[] {
    const out = new Array<boolean>(as.length).fill(false);
    if (as.length === 0) return out;
    const pos = this.#pos;
    // Distinct targets in topological order, so each chunk covers a contiguous stretch.
    const targets = [...new Set(as)].sort((x, y) => (pos[x] as number) - (pos[y] as number));
    const slot = new Map<number, number>();
    targets.forEach((t, k) => {
      slot.set(t, k);
    });
    const byChunk: number[][] = Array.from({ length: Math.ceil(targets.length / 32) }, () => []);
    for (let i = 0; i < as.length; i++) byChunk[(slot.get(as[i] as number) as number) >> 5]?.push(i);
    const mask = new Uint32Array(pos.length);
    const own = new Uint32Array(pos.length);
    for (let c = 0; c < byChunk.length; c++) {
      const queries = byChunk[c] as number[];
      const chunk = targets.slice(c * 32, c * 32 + 32);
      const lo = pos[chunk[0] as number] as number;
      let hi = lo;
      for (const i of queries) hi = Math.max(hi, pos[ds[i] as number] as number);
      chunk.forEach((t, bit) => {
        own[t] = (1 << bit) >>> 0;
      });
      for (let k = lo; k <= hi; k++) {
        const v = this.#order[k] as number;
        let m = own[v] as number;
        for (const q of this.#preds[v] as readonly number[]) if ((pos[q] as number) >= lo) m |= mask[q] as number;
        mask[v] = m;
      }
      for (const i of queries) {
        const a = as[i] as number;
        const d = ds[i] as number;
        out[i] = a !== d && ((mask[d] as number) & (own[a] as number)) !== 0;
      }
      for (const t of chunk) own[t] = 0;
      for (let k = lo; k <= hi; k++) mask[this.#order[k] as number] = 0;
    }
    return out;
  }

  /** Every ancestor of `v`, in ascending node index order. */
  ancestorsOf(v: number): number[] {
    const seen = new Uint8Array(this.#level.length);
    const out: number[] = [];
    const stack = [v];
    while (stack.length > 0) {
      const x = stack.pop() as number;
      for (const q of this.#preds[x] as readonly number[]) {
        if (seen[q]) continue;
        seen[q] = 1;
        out.push(q);
        stack.push(q);
      }
    }
    return out.sort((x, y) => x - y);
  }
}
