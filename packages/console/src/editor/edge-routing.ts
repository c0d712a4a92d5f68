/**
 * Where an edge is drawn and where its label sits, avoiding the nodes in between. Pure: given
 * the two handle points and the rectangles of the other nodes, returns an SVG path and a label
 * point. The default is the usual bezier; when it would cross a node (the demo's "nothing"
 * branch running under the skipped booking nodes), the edge detours along a horizontal lane
 * above or below the nodes in its way, whichever is closer. The label goes to the first point
 * along the path that is not on a node.
 */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export type Side = 'left' | 'right' | 'top' | 'bottom';

export interface Route {
  path: string;
  labelX: number;
  labelY: number;
  /** True when the edge leaves the straight bezier to go round a node. */
  detour: boolean;
}

const MARGIN = 10;
const LANE_GAP = 18;

type Pt = { x: number; y: number };

function inside(p: Pt, r: Rect, pad = MARGIN): boolean {
  return p.x > r.x - pad && p.x < r.x + r.width + pad && p.y > r.y - pad && p.y < r.y + r.height + pad;
}

/** The control point offset xyflow's bezier uses, so our curve looks like its default edges. */
function controlOffset(distance: number): number {
  return distance >= 0 ? 0.5 * distance : 0.25 * 25 * Math.sqrt(-distance);
}

function control(p: Pt, side: Side, other: Pt): Pt {
  switch (side) {
    case 'left':
      return { x: p.x - controlOffset(p.x - other.x), y: p.y };
    case 'right':
      return { x: p.x + controlOffset(other.x - p.x), y: p.y };
    case 'top':
      return { x: p.x, y: p.y - controlOffset(p.y - other.y) };
    case 'bottom':
      return { x: p.x, y: p.y + controlOffset(other.y - p.y) };
  }
}

function cubic(a: Pt, b: Pt, c: Pt, d: Pt, t: number): Pt {
  const u = 1 - t;
  return {
    x: u * u * u * a.x + 3 * u * u * t * b.x + 3 * u * t * t * c.x + t * t * t * d.x,
    y: u * u * u * a.y + 3 * u * u * t * b.y + 3 * u * t * t * c.y + t * t * t * d.y,
  };
}

/** Label positions tried in turn along a path: the middle first, then outwards. */
const LABEL_TS = [0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8];

export function routeEdge(source: Pt, sourceSide: Side, target: Pt, targetSide: Side, obstacles: readonly Rect[]): Route {
  const c1 = control(source, sourceSide, target);
  const c2 = control(target, targetSide, source);
  const bezier = `M${source.x},${source.y} C${c1.x},${c1.y} ${c2.x},${c2.y} ${target.x},${target.y}`;
  // Only nodes near the edge's bounding box matter.
  const minX = Math.min(source.x, target.x, c1.x, c2.x);
  const maxX = Math.max(source.x, target.x, c1.x, c2.x);
  const minY = Math.min(source.y, target.y, c1.y, c2.y);
  const maxY = Math.max(source.y, target.y, c1.y, c2.y);
  const near = obstacles.filter(
    (r) => r.x < maxX + MARGIN && r.x + r.width > minX - MARGIN && r.y < maxY + MARGIN && r.y + r.height > minY - MARGIN,
  );
  const at = (t: number) => cubic(source, c1, c2, target, t);
  const hits: Rect[] = [];
  for (let i = 2; i <= 30; i++) {
    const p = at(i / 32);
    for (const r of near) if (inside(p, r, 4) && !hits.includes(r)) hits.push(r);
  }
  const forward = target.x - source.x > 140 && sourceSide !== 'left' && targetSide === 'left';
  if (hits.length === 0 || !forward) return { path: bezier, ...labelOnCurve(at, near), detour: false };

  // Detour: a horizontal lane above or below the blocking nodes, clear of every node it passes.
  const xa = source.x + 40;
  const xb = target.x - 40;
  const between = obstacles.filter((r) => r.x < xb && r.x + r.width > xa);
  const laneClear = (y: number) => !between.some((r) => y > r.y - LANE_GAP / 2 && y < r.y + r.height + LANE_GAP / 2);
  let above = Math.min(...hits.map((r) => r.y)) - LANE_GAP;
  for (let i = 0; i < 50 && !laneClear(above); i++)
    above =
      Math.min(...between.filter((r) => above > r.y - LANE_GAP / 2 && above < r.y + r.height + LANE_GAP / 2).map((r) => r.y)) -
      LANE_GAP;
  let below = Math.max(...hits.map((r) => r.y + r.height)) + LANE_GAP;
  for (let i = 0; i < 50 && !laneClear(below); i++)
    below =
      Math.max(
        ...between.filter((r) => below > r.y - LANE_GAP / 2 && below < r.y + r.height + LANE_GAP / 2).map((r) => r.y + r.height),
      ) + LANE_GAP;
  const cost = (y: number) => Math.abs(y - source.y) + Math.abs(y - target.y);
  const lane = cost(above) <= cost(below) ? above : below;
  const run = Math.min(60, (target.x - source.x) / 4);
  const path = [
    `M${source.x},${source.y}`,
    `C${source.x + run},${source.y} ${source.x + run / 2},${lane} ${source.x + run * 1.5},${lane}`,
    `L${target.x - run * 1.5},${lane}`,
    `C${target.x - run / 2},${lane} ${target.x - run},${target.y} ${target.x},${target.y}`,
  ].join(' ');
  const mid = { x: (source.x + target.x) / 2, y: lane };
  const label = near.some((r) => inside(mid, r)) ? { x: source.x + run * 1.5 + 30, y: lane } : mid;
  return { path, labelX: label.x, labelY: label.y, detour: true };
}

function labelOnCurve(at: (t: number) => Pt, near: readonly Rect[]): { labelX: number; labelY: number } {
  for (const t of LABEL_TS) {
    const p = at(t);
    if (!near.some((r) => inside(p, r))) return { labelX: p.x, labelY: p.y };
  }
  const p = at(0.5);
  return { labelX: p.x, labelY: p.y };
}
