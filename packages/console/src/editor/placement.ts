/**
 * Where a node added from the palette by keyboard (or click) goes: at the wanted point when it
 * is free, else the nearest free slot on a grid of node-sized steps around it — never on top of
 * another node. Pure.
 */
import type { XY } from './doc.ts';
import { NODE_HEIGHT, NODE_WIDTH } from './layout.ts';

const GAP_X = 40;
const GAP_Y = 30;

function overlaps(a: XY, b: XY): boolean {
  return Math.abs(a.x - b.x) < NODE_WIDTH + GAP_X / 2 && Math.abs(a.y - b.y) < NODE_HEIGHT + GAP_Y / 2;
}

export function freeSpot(nodes: readonly { position: XY }[], wanted: XY): XY {
  const free = (p: XY) => !nodes.some((n) => overlaps(n.position, p));
  if (free(wanted)) return wanted;
  const dx = NODE_WIDTH + GAP_X;
  const dy = NODE_HEIGHT + GAP_Y;
  // Rings around the wanted point, nearest first: right and below before left and above.
  for (let r = 1; r < 30; r++) {
    const ring: XY[] = [];
    for (let i = -r; i <= r; i++)
      for (let j = -r; j <= r; j++)
        if (Math.max(Math.abs(i), Math.abs(j)) === r) ring.push({ x: wanted.x + i * dx, y: wanted.y + j * dy });
    ring.sort(
      (a, b) => Math.hypot(a.x - wanted.x, a.y - wanted.y) - Math.hypot(b.x - wanted.x, b.y - wanted.y) || b.x - a.x || b.y - a.y,
    );
    const hit = ring.find(free);
    if (hit) return hit;
  }
  return { x: wanted.x, y: wanted.y + nodes.length * dy };
}

/** The spot right of a node (where the next step of a flow goes), or the nearest free one. */
export function spotAfter(nodes: readonly { position: XY }[], after: XY): XY {
  return freeSpot(nodes, { x: after.x + NODE_WIDTH + 2 * GAP_X, y: after.y });
}
