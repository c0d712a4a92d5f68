/**
 * Which edges of a run were taken, for the run view's graph. Decided the way the engine
 * decides it (SPEC §1): an edge is taken when its source succeeded (or failed with
 * `onError: "continue"`) and its condition, if any, is true, evaluated by the core's own
 * JSONata evaluator over the run input and the node outputs. Undefined while the source is
 * still unresolved.
 */
import { type NodeRunRecord, tryCompileExpression } from '@trellis/core';
import type { DraftEdge, DraftNode } from '../editor/doc.ts';

export async function edgesTaken(
  nodes: readonly DraftNode[],
  edges: readonly DraftEdge[],
  records: Readonly<Record<string, Pick<NodeRunRecord, 'status' | 'output'>>>,
  input: unknown,
): Promise<Map<number, boolean>> {
  const scope: Record<string, unknown> = { context: input ?? {} };
  for (const [id, r] of Object.entries(records)) if (r.status === 'succeeded' || r.status === 'failed') scope[id] = r.output;
  const onError = new Map(nodes.map((n) => [n.id, n.onError === 'continue' ? 'continue' : 'fail']));
  const out = new Map<number, boolean>();
  await Promise.all(
    edges.map(async (e, i) => {
      const src = records[e.from]?.status;
      if (src === 'skipped' || src === 'cancelled' || (src === 'failed' && onError.get(e.from) !== 'continue')) {
        out.set(i, false);
        return;
      }
      if (src !== 'succeeded' && src !== 'failed') return;
      if (!e.condition) {
        out.set(i, true);
        return;
      }
      const parsed = tryCompileExpression(e.condition);
      if (!parsed.ok) {
        out.set(i, false);
        return;
      }
      try {
        out.set(i, (await parsed.expression.evaluate(scope)) === true);
      } catch {
        out.set(i, false);
      }
    }),
  );
  return out;
}
