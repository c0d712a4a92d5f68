/**
 * Frame times of the console with a 500-node workflow, in headless Chromium against the real
 * server: the builder and the live run view, each panned for a few seconds while the page
 * records every animation frame. Prints a table and writes bench/results/console-frames.json.
 *
 *   npx tsx packages/console/bench/frames.ts [--nodes 500] [--seconds 3]
 *
 * Headless Chromium with --disable-gpu composites in software, so absolute numbers are a
 * floor for a real desktop browser; compare runs on the same machine.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { launch } from '../test/helpers/browser.ts';
import { buildConsole, startStack } from '../test/helpers/stack.ts';

const args = process.argv.slice(2);
const arg = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const NODES = arg('nodes', 500);
const SECONDS = arg('seconds', 3);
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

const START_RECORDING = `(() => {
  window.__frames = [];
  window.__stop = false;
  let last = performance.now();
  const tick = (t) => {
    window.__frames.push(t - last);
    last = t;
    if (!window.__stop) requestAnimationFrame(tick);
  };
  requestAnimationFrame((t) => { last = t; requestAnimationFrame(tick); });
})()`;
const STOP_RECORDING = '(() => { window.__stop = true; return window.__frames; })()';

/**
 * Drags with the mouse from `from` back and forth for `seconds`, recording every animation
 * frame's interval. `moved` names the element whose style must change (the viewport for a pan,
 * the node for a node drag), so a drag that missed its target fails instead of measuring idle.
 */
async function dragAndMeasure(page: Page, from: { x: number; y: number }, moved: string, seconds: number): Promise<FrameStats> {
  // Strings, not functions: tsx's transform would add helpers that do not exist in the page.
  await page.evaluate(START_RECORDING);
  const before = await page.locator(moved).getAttribute('style');
  const end = Date.now() + seconds * 1000;
  let dir = 1;
  while (Date.now() < end) {
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move(from.x + dir * 300, from.y + 60, { steps: 30 });
    await page.mouse.up();
    if (moved.includes('react-flow__node')) {
      // The node moved with the mouse: grab it where it is now, and come back.
      const box = await page.locator(moved).boundingBox();
      if (box) from = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    }
    dir = -dir;
  }
  const frames = (await page.evaluate(STOP_RECORDING)) as number[];
  const after = await page.locator(moved).getAttribute('style');
  if (before === after) throw new Error(`${moved} did not move; the measurement would be meaningless`);
  return stats(frames.slice(1), seconds);
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

/** Drags one node around (each move is an edit of the document, re-rendered through React). */
async function dragNodeAndMeasure(page: Page, nodeId: string, seconds: number): Promise<FrameStats> {
  const sel = `.react-flow__node[data-id="${nodeId}"]`;
  // Panning moved the view: fit it again (at the readable zoom) so the node is on screen.
  await page.locator('.react-flow__controls-fitview').first().click();
  await page.waitForTimeout(300);
  const box = await page.locator(sel).boundingBox();
  if (!box) throw new Error(`${sel} not found`);
  return dragAndMeasure(page, { x: box.x + box.width / 2, y: box.y + box.height / 2 }, sel, seconds);
}

async function main() {
  const dist = await buildConsole();
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
    results.builder = await panAndMeasure(page, '.builder .react-flow__pane', SECONDS);
    results.builderDragNode = await dragNodeAndMeasure(page, `n${Math.floor(NODES / 2)}`, SECONDS);

    const run = await stack.api<{ id: string }>('POST', `/workflows/${wf.id}/run`, { input: {} });
    t = Date.now();
    await page.goto(`${stack.url}/runs/${run.id}`);
    await page.locator('.react-flow__node').first().waitFor();
    await page.locator('[data-run-status="succeeded"]').waitFor({ timeout: 60_000 });
    results.runViewLoadToSucceededMs = Date.now() - t;
    results.runView = await panAndMeasure(page, '.runview .react-flow__pane', SECONDS);
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

  const rows = (['builder', 'builderDragNode', 'runView'] as const).map((k) => ({ view: k, ...(results[k] as FrameStats) }));
  console.log(
    `Console frame times with a ${NODES}-node workflow (${SECONDS}s each, 1280x800): panning, dragging a node, panning the run view`,
  );
  console.table(rows);
  console.log(`builder load: ${results.builderLoadMs} ms; run view load → run succeeded: ${results.runViewLoadToSucceededMs} ms`);
  console.log(`load average (1 min) at the end: ${results.loadAverage1m} on ${results.cores} cores`);
  const outDir = join(fileURLToPath(new URL('../../..', import.meta.url)), 'bench', 'results');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(
    join(outDir, 'console-frames.json'),
    `${JSON.stringify({ at: new Date().toISOString(), ...results }, null, 2)}\n`,
  );
  console.log(`wrote ${join(outDir, 'console-frames.json')}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
