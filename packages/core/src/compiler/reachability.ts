/**
 * Ancestor queries without a transitive closure. Storing every node's ancestor set is
 * quadratic in memory (50,000 nodes → 2.5 billion bits), so each query is answered on demand:
 *
 * 1. cheap negative cuts: an ancestor comes strictly earlier in the topological order and at a
 *    strictly lower level;
 * 2. the common positive case: a direct predecessor;
 * 3. otherwise a backward search from the descendant that never expands a node ordered at or
 *    before the candidate (it cannot lead to it), with a stamp array instead of a visited set.
 *
 * Bindings almost always name a parent or a near ancestor, so step 3 stays local in practice;
 * its worst case is linear per query.
 */
export class Reachability {
  readonly #pos: Int32Array;
  readonly #level: Int32Array;
  readonly #preds: readonly (readonly number[])[];
  readonly #stamp: Uint32Array;
  #epoch = 0;
  readonly #stack: number[] = [];

  constructor(order: readonly number[], level: Int32Array, preds: readonly (readonly number[])[]) {
    this.#pos = new Int32Array(level.length).fill(-1);
    for (let k = 0; k < order.length; k++) this.#pos[order[k] as number] = k;
    this.#level = level;
    this.#preds = preds;
    this.#stamp = new Uint32Array(level.length);
  }

  /** True when `a` has a path to `d` (not reflexive). */
  isAncestor(a: number, d: number): boolean {
    const pos = this.#pos;
    const level = this.#level;
    const pa = pos[a] as number;
    if (a === d || pa < 0 || pa >= (pos[d] as number) || (level[a] as number) >= (level[d] as number)) return false;
    const direct = this.#preds[d] as readonly number[];
    for (const q of direct) if (q === a) return true;
    const la = level[a] as number;
    if (++this.#epoch === 0xffffffff) {
      this.#stamp.fill(0);
      this.#epoch = 1;
    }
    const epoch = this.#epoch;
    const stack = this.#stack;
    stack.length = 0;
    stack.push(d);
    while (stack.length > 0) {
      const v = stack.pop() as number;
      for (const q of this.#preds[v] as readonly number[]) {
        if (q === a) return true;
        // q cannot reach a's descendants... unless q is after a in the order and deeper than a.
        if ((pos[q] as number) <= pa || (level[q] as number) <= la || this.#stamp[q] === epoch) continue;
        this.#stamp[q] = epoch;
        stack.push(q);
      }
    }
    return false;
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
