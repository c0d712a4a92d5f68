/**
 * Frame times of the console with a 500-node workflow, in headless Chromium against the real
 * server, with real pointer events (playwright's mouse: pointerdown, pointermove…, pointerup):
 *
 * - builder: panning the builder's canvas;
 * - builderDragNode: dragging a node as the builder opens (fitted at the readable zoom, ~40
 *   nodes in view);
 * - builderDragNodeAll: dragging a node with the whole graph in view (the canvas's "fit view"
 *   button: all 500 nodes and their edges on screen);
 * - runView: panning the live run view.
 *
 * The page records the interval of every animation frame while a mouse button is down (frames
 * between two drags, when nothing happens, are not counted). A node drag must move the node
 * and must not pan the view (xyflow pans when the pointer nears the canvas's edge; that would
 * measure a pan). Prints a table and writes bench/results/console-frames.json.
 *
 *   npx tsx packages/console/bench/frames.ts [--nodes 500] [--seconds 3]
 *     [--only builderDragNode,builderDragNodeAll] [--console <built console dir>] [--out <file>]
 *
 * `--console` measures a console built beforehand (an A/B of two builds on the same machine);
 * by default the console is built from source first.
 * Headless Chromium with --disable-gpu composites in software, so absolute numbers are a
 * floor for a real desktop browser; compare runs on the same machine.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { launch } from '../test/helpers/browser.ts';
import { buildConsole, startStack } from '../test/helpers/stack.ts';

const args = process.argv.slice(2);
const text = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const arg = (name: string, dflt: number) => Number(text(name) ?? dflt);
const NODES = arg('nodes', 500);
const SECONDS = arg('seconds', 3);
const VIEWS = ['builder', 'builderDragNode', 'builderDragNodeAll', 'runView'] as const;
type View = (typeof VIEWS)[number];
const ONLY = new Set((text('only') ?? VIEWS.join(',')).split(',')) as Set<string>;
for (const v of ONLY) if (!VIEWS.includes(v as View)) throw new Error(`--only: unknown view '${v}' (${VIEWS.join(', ')})`);
const CONSOLE_DIR = text('console');
const WIDTH = 10;

/** A layered DAG: NODES/WIDTH levels of WIDTH transforms, each wired to two nodes of the next level. */
function bigWorkflow(n: number) {
  const nodes = [];
  const edges = [];
  for (let i = 0; i < n; i++) {
    const level = Math.floor(i / WIDTH);
    const col = i % WIDTH;
    nodes.push({ id: `n${i}`, type: 'transform', expression: `${i}`, position: { x: level * 260, y: col * 90 } });
    if (level > 0) {
      const prev = (level - 1) * WIDTH;
      edges.push({ from: `n${prev + col}`, to: `n${i}` });
      if (col > 0) edges.push({ from: `n${prev + col - 1}`, to: `n${i}` });
    }
  }
  return { name: `frames-${n}`, nodes, edges };
}

interface FrameStats {
  frames: number;
  seconds: number;
  fps: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Frames longer than 50 ms (a visible hitch). */
  longFrames: number;
}

function stats(intervals: number[], seconds: number): FrameStats {
  const s = [...intervals].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0;
  const mean = s.reduce((a, b) => a + b, 0) / Math.max(1, s.length);
  const r = (x: number) => Math.round(x * 10) / 10;
  return {
    frames: s.length,
    seconds,
    fps: r(1000 / mean),
    meanMs: r(mean),
    p50Ms: r(q(0.5)),
    p95Ms: r(q(0.95)),
    p99Ms: r(q(0.99)),
    maxMs: r(s.at(-1) ?? 0),
    longFrames: s.filter((x) => x > 50).length,
  };
}

/** Records each frame's interval when a mouse button was down at some point of it. */
const START_RECORDING = `(() => {
  window.__frames = [];
  window.__stop = false;
  let down = false, wasDown = false;
  const onDown = () => { down = true; wasDown = true; };
  const onUp = () => { down = false; };
  document.addEventListener('pointerdown', onDown, true);
  document.addEventListener('pointerup', onUp, true);
  let last = performance.now();
  const tick = (t) => {
    if (wasDown) window.__frames.push(t - last);
    wasDown = down;
    last = t;
    if (!window.__stop) requestAnimationFrame(tick);
    else { document.removeEventListener('pointerdown', onDown, true); document.removeEventListener('pointerup', onUp, true); }
  };
  requestAnimationFrame((t) => { last = t; requestAnimationFrame(tick); });
})()`;
const STOP_RECORDING = '(() => { window.__stop = true; return window.__frames; })()';

/**
 * Drags with the mouse from `from` back and forth for `seconds`, recording every animation
 * frame's interval. `moved` names the element whose style must change (the viewport for a pan,
 * the node for a node drag), so a drag that missed its target fails instead of measuring idle.
 */
async function dragAndMeasure(
  page: Page,
  from: { x: number; y: number },
  moved: string,
  seconds: number,
  distance = 300,
): Promise<FrameStats> {
  // Strings, not functions: tsx's transform would add helpers that do not exist in the page.
  await page.evaluate(START_RECORDING);
  const before = await page.locator(moved).getAttribute('style');
  const viewport = '.react-flow__viewport';
  const viewBefore = await page.locator(viewport).first().getAttribute('style');
  const end = Date.now() + seconds * 1000;
  let dir = 1;
  while (Date.now() < end) {
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move(from.x + dir * distance, from.y + (dir * distance) / 5, { steps: 30 });
    await page.mouse.up();
    if (moved.includes('react-flow__node')) {
      // The node moved with the mouse: grab it where it is now, and come back.
      const box = await page.locator(moved).boundingBox();
      if (box) from = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    }
    // Checked after the first drag (back and forth ends where it started).
    if (dir === 1 && (await page.locator(moved).getAttribute('style')) === before)
      throw new Error(`${moved} did not move; the measurement would be meaningless`);
    dir = -dir;
  }
  const frames = (await page.evaluate(STOP_RECORDING)) as number[];
  if (moved !== viewport && (await page.locator(viewport).first().getAttribute('style')) !== viewBefore)
    throw new Error(`the view panned while ${moved} was dragged: that would measure a pan, not a node drag`);
  return stats(frames, seconds);
}

/** Pans by grabbing an empty spot of the pane. */
async function panAndMeasure(page: Page, selector: string, seconds: number): Promise<FrameStats> {
  const box = await page.locator(selector).boundingBox();
  if (!box) throw new Error(`${selector} not found`);
  // An empty spot of the pane (graphs are fitted at a readable zoom, so nodes may reach its edges).
  const spot = (await page.evaluate(
    `(() => { const b = ${JSON.stringify(box)}; for (let y = b.y + 8; y < b.y + b.height - 8; y += 6) for (let x = b.x + b.width / 2; x > b.x + 8; x -= 20) { const el = document.elementFromPoint(x, y); if (el && el.classList.contains('react-flow__pane')) return { x, y }; } return null; })()`,
  )) as { x: number; y: number } | null;
  if (!spot) throw new Error(`no empty spot on ${selector} to grab`);
  return dragAndMeasure(page, spot, '.react-flow__viewport', seconds);
}

/**
 * Drags the node nearest the canvas's centre back and forth (far enough from the edges that
 * the view does not pan): each move re-renders the moved node and its edges.
 */
async function dragNodeAndMeasure(page: Page, seconds: number): Promise<FrameStats> {
  const canvas = await page.locator('.builder .react-flow').boundingBox();
  if (!canvas) throw new Error('the builder canvas is not there');
  const cx = canvas.x + canvas.width / 2;
  const cy = canvas.y + canvas.height / 2;
  const id = (await page.evaluate(
    `(() => { let best, d = Infinity; for (const el of document.querySelectorAll('.builder .react-flow__node')) { const b = el.getBoundingClientRect(); const dd = Math.hypot(b.x + b.width / 2 - ${cx}, b.y + b.height / 2 - ${cy}); if (dd < d) { d = dd; best = el.getAttribute('data-id'); } } return best; })()`,
  )) as string | undefined;
  if (!id) throw new Error('no node on the canvas');
  const sel = `.builder .react-flow__node[data-id="${id}"]`;
  const box = await page.locator(sel).boundingBox();
  if (!box) throw new Error(`${sel} not found`);
  // Left and right of the centre by a quarter of the canvas: the pointer stays clear of the edges.
  const start = { x: box.x + box.width / 2 - canvas.width / 8, y: box.y + box.height / 2 };
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(start.x, start.y, { steps: 5 });
  await page.mouse.up();
  return dragAndMeasure(page, start, sel, seconds, canvas.width / 4);
}

async function main() {
  const dist = CONSOLE_DIR ?? (await buildConsole());
  const stack = await startStack(dist);
  const browser = await launch({ width: 1280, height: 800 });
  const page = browser.page;
  const results: Record<string, FrameStats | number | string> = {};
  try {
    const wf = await stack.api<{ id: string }>('POST', '/workflows', bigWorkflow(NODES));
    await page.goto(`${stack.url}/#token=${stack.token}`);
    await page.getByRole('heading', { name: 'Workflows', exact: true }).waitFor();

    let t = Date.now();
    await page.goto(`${stack.url}/workflows/${wf.id}`);
    await page.locator('.react-flow__node').first().waitFor();
    await page
      .getByRole('status')
      .filter({ hasText: /^Valid$/ })
      .waitFor();
    results.builderLoadMs = Date.now() - t;
    // As the builder opens: fitted at the readable zoom.
    if (ONLY.has('builderDragNode')) results.builderDragNode = await dragNodeAndMeasure(page, SECONDS);
    if (ONLY.has('builder')) results.builder = await panAndMeasure(page, '.builder .react-flow__pane', SECONDS);
    if (ONLY.has('builderDragNodeAll')) {
      // The whole graph in view: the canvas's "fit view" button.
      await page.locator('.builder .react-flow__controls-fitview').click();
      await page.waitForTimeout(300);
      results.builderDragNodeAll = await dragNodeAndMeasure(page, SECONDS);
    }

    if (ONLY.has('runView')) {
      const run = await stack.api<{ id: string }>('POST', `/workflows/${wf.id}/run`, { input: {} });
      t = Date.now();
      await page.goto(`${stack.url}/runs/${run.id}`);
      await page.locator('.react-flow__node').first().waitFor();
      await page.locator('[data-run-status="succeeded"]').waitFor({ timeout: 60_000 });
      results.runViewLoadToSucceededMs = Date.now() - t;
      results.runView = await panAndMeasure(page, '.runview .react-flow__pane', SECONDS);
    }
    results.nodes = NODES;
    results.viewport = '1280x800';
    results.browser = 'Debian chromium, headless, --disable-gpu';
    // Other processes share the cores; frame times under load are worse, so record the load.
    results.loadAverage1m = Math.round((loadavg()[0] ?? 0) * 100) / 100;
    results.cores = cpus().length;
  } finally {
    await browser.close();
    await stack.close();
  }
  if (browser.errors.length) console.error('console errors:', browser.errors);

  const rows = VIEWS.filter((k) => results[k]).map((k) => ({ view: k, ...(results[k] as FrameStats) }));
  console.log(
    `Console frame times with a ${NODES}-node workflow (${SECONDS}s each, 1280x800, frames while a mouse button is down): panning, dragging a node (as opened; whole graph in view), panning the run view`,
  );
  console.table(rows);
  console.log(
    `builder load: ${results.builderLoadMs} ms${results.runViewLoadToSucceededMs ? `; run view load → run succeeded: ${results.runViewLoadToSucceededMs} ms` : ''}`,
  );
  console.log(`load average (1 min) at the end: ${results.loadAverage1m} on ${results.cores} cores`);
  const out = text('out') ?? join(fileURLToPath(new URL('../../..', import.meta.url)), 'bench', 'results', 'console-frames.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ at: new Date().toISOString(), ...results }, null, 2)}\n`);
  console.log(`wrote ${out}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
