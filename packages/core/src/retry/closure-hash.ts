/**
 * Per node, a stable hash of the node and everything upstream of it: its own definition
 * (without the purely cosmetic fields), its incoming edges (source and condition) and the
 * closure hashes of its predecessors. Two versions of a workflow give a node the same closure
 * hash exactly when neither it nor anything that feeds it changed — the test a retry with
 * `version: "latest"` applies before reusing a node.
 */
import type { CompiledWorkflow } from '../compiled.ts';
import { canonicalJson, sha256Hex } from './hash.ts';

/** Fields that change nothing a node computes: they never prevent reuse. */
const COSMETIC_FIELDS = new Set(['name', 'description', 'position', 'estimatedMs']);

export interface NodeHashes {
  /** The node's own definition and its incoming edges, by node index. */
  readonly local: readonly string[];
  /** `local` plus the closure hashes of its predecessors, by node index. */
  readonly closure: readonly string[];
}

export function nodeHashes(compiled: CompiledWorkflow): NodeHashes {
  const local: string[] = new Array(compiled.nodes.length);
  const closure: string[] = new Array(compiled.nodes.length);
  for (const i of compiled.order) {
    const node = compiled.nodes[i]!;
    const def: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node.def)) if (!COSMETIC_FIELDS.has(k)) def[k] = v;
    const incoming = node.incoming
      .map((e) => {
        const edge = compiled.edges[e]!;
        return { from: compiled.nodes[edge.from]!.id, condition: edge.condition ?? null };
      })
      .sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : (a.condition ?? '') < (b.condition ?? '') ? -1 : 1));
    local[i] = sha256Hex(canonicalJson({ def, incoming }));
    const preds = node.predecessors.map((p) => `${compiled.nodes[p]!.id}=${closure[p]}`).sort();
    closure[i] = sha256Hex(`${local[i]}|${preds.join('|')}`);
  }
  return { local, closure };
}
