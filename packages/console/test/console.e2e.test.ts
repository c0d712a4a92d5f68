/**
 * End-to-end: the built console in headless Chromium against the real server, engine and a
 * SQLite file. Scenarios: sign in with the one-time link; build a three-node workflow with a
 * conditional edge by drag and drop, save, run and watch it finish live; approve a waiting
 * gate; cancel a running run; no console errors on any page.
 */
import { readFileSync } from 'node:fs';
import { createSignInCode } from '@trellis/store';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, chromiumAvailable, launch, signIn } from './helpers/browser.ts';
import { buildConsole, hasRegistryRoutes, type Stack, startStack } from './helpers/stack.ts';

let stack: Stack;
let browser: Browser;
let page: Page;

async function dropPaletteItem(label: string, x: number, y: number) {
  await page
    .getByRole('button', { name: `Add ${label}`, exact: true })
    .dragTo(page.locator('.react-flow__pane'), { targetPosition: { x, y } });
}

async function connect(from: string, to: string) {
  // A condition node has three source handles (true, false, other): the first is its `true`
  // port, whose edge gets `$<node>.value = true` (which the test then edits by hand).
  const src = page.locator(`.react-flow__node[data-id="${from}"] .react-flow__handle.source`).first();
  const dst = page.locator(`.react-flow__node[data-id="${to}"] .react-flow__handle.target`);
  const a = await src.boundingBox();
  const b = await dst.boundingBox();
  if (!a || !b) throw new Error('handle not found');
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 5 });
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 5 });
  await page.mouse.up();
}

/** Visible buttons, inputs, selects and text areas without an accessible name (label, aria, text, title). */
async function unnamedControls(): Promise<string[]> {
  return page.locator('button, input:not([type=hidden]), select, textarea, [role=button], [role=tab]').evaluateAll((els) =>
    els
      .filter((el) => {
        const h = el as HTMLElement;
        if (h.hidden || h.offsetParent === null) return false;
        const labelled =
          (el as HTMLInputElement).labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
        const text = el.tagName === 'BUTTON' || el.getAttribute('role') ? (h.textContent ?? '').trim() : '';
        return !(labelled || text || el.getAttribute('title'));
      })
      .map((el) => el.outerHTML.slice(0, 120)),
  );
}

async function runStatus(): Promise<string | null> {
  return page.locator('[data-run-status]').getAttribute('data-run-status');
}

describe.skipIf(!chromiumAvailable)('console end to end (Chromium)', () => {
  beforeAll(async () => {
    const dist = await buildConsole();
    stack = await startStack(dist);
    browser = await launch();
    page = browser.page;
    await signIn(page, stack);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('signs in with the one-time link, removes the code from the address, remembers the session, and refuses the link a second time', async () => {
    const { code } = await createSignInCode(stack.server.ctx.db, { principal: 'admin', admin: true });
    await page.evaluate(() => localStorage.clear());
    await page.goto(`${stack.url}/#code=${code}`);
    await page.getByRole('heading', { name: 'Workflows', exact: true }).waitFor();
    expect(page.url()).not.toContain('code=');
    expect(await page.evaluate(() => localStorage.getItem('trellis.token'))).toMatch(/^trls_/);
    await page.reload();
    await page.getByRole('heading', { name: 'Workflows', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.goto(`${stack.url}/#code=${code}`);
    await page.getByRole('form', { name: 'Sign in' }).waitFor();
    await page.getByText(/Sign-in link refused: this sign-in link was already used/).waitFor();
    browser.errors.length = 0; // the refused code's 401 is the point of this step
    await signIn(page, stack);
    expect(page.url()).not.toContain('token=');
    await page.reload();
    await page.getByRole('heading', { name: 'Workflows', exact: true }).waitFor();
    await page.getByText('No workflows yet').waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('form', { name: 'Sign in' }).waitFor();
    await page.getByLabel('API token').fill('wrong-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'not accepted' }).waitFor();
    browser.errors.length = 0; // the rejected token's 401 is the point of this step
    await page.getByLabel('API token').fill(stack.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Workflows', exact: true }).waitFor();
  });

  it('builds a three-node workflow with a conditional edge by drag and drop, saves it, runs it and watches it finish live', async () => {
    await page.goto(`${stack.url}/workflows/new`);
    await page.getByRole('toolbar', { name: 'Builder' }).waitFor();
    await page.getByLabel('Workflow name').fill('e2e-built');

    await dropPaletteItem('tool_call', 110, 200);
    await page.locator('.react-flow__node[data-id="tool_call_1"]').waitFor();
    await page.getByLabel('Tool', { exact: true }).fill('test.echo');
    await page.getByLabel('url').fill('');
    await page.getByRole('textbox', { name: 'New input field name' }).fill('n');
    await page.getByRole('button', { name: 'Add field' }).click();
    await page.getByLabel('n', { exact: true }).fill('5');

    await dropPaletteItem('condition', 370, 200);
    await page.locator('.react-flow__node[data-id="condition_1"]').waitFor();
    await page.getByLabel('Expression (JSONata)').fill('$tool_call_1.n > 3');

    await dropPaletteItem('transform', 630, 200);
    await page.locator('.react-flow__node[data-id="transform_1"]').waitFor();
    // A bad expression is reported at once, pinned to the node…
    await page.getByLabel('Expression (JSONata)').fill("{ 'big': ");
    await page.locator('.react-flow__node[data-id="transform_1"] .tnode.has-error').waitFor();
    await page.getByLabel('Expression (JSONata)').fill("{ 'big': $tool_call_1.n }");

    await connect('tool_call_1', 'condition_1');
    await connect('condition_1', 'transform_1');
    await expect.poll(() => page.locator('.react-flow__edge').count()).toBe(2);

    // Select the second edge and give it a condition; a syntax error shows while typing.
    await page.locator('.react-flow__edge').nth(1).click({ force: true });
    const cond = page.getByLabel('Condition (JSONata; empty: always taken)');
    await cond.fill('$condition_1.value = ');
    await page.getByText(/^Syntax:/).waitFor();
    await cond.fill('$condition_1.value = true');
    await page.getByText('Syntax OK').waitFor();

    await page.locator('.react-flow__pane').click({ position: { x: 20, y: 20 } });
    await page
      .getByRole('status')
      .filter({ hasText: /^Valid$/ })
      .waitFor();
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.waitForURL(/\/workflows\/[^/]+$/);
    await page.getByText('v1', { exact: true }).waitFor();

    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.waitForURL(/\/runs\//);
    await expect.poll(runStatus, { timeout: 20_000 }).toBe('succeeded');
    for (const id of ['tool_call_1', 'condition_1', 'transform_1']) {
      await expect
        .poll(() => page.locator(`.react-flow__node[data-id="${id}"] .tnode`).getAttribute('data-status'))
        .toBe('succeeded');
    }
    // Both edges were taken (the conditional one evaluated true), and the graph says so.
    await expect.poll(() => page.locator('.react-flow__edge.edge-taken').count()).toBe(2);
    await page.getByRole('tab', { name: /Events/ }).click();
    await page.getByRole('table', { name: 'Event log' }).getByText('run.succeeded').waitFor();
    await expect.poll(() => page.locator('[data-field="run-output"]').textContent()).toContain('"big": 5');
    // Each event exactly once, in order.
    const seqs = await page.locator('table.events tr').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-seq'))));
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  });

  it('edits with the keyboard, undo/redo and auto-layout; saves versions, opens an old one; exports and imports JSON', async () => {
    const wf = await stack.api<{ id: string }>('POST', '/workflows', {
      name: 'e2e-edit',
      nodes: [
        { id: 'first', type: 'transform', expression: '1' },
        { id: 'second', type: 'transform', expression: '$first + 1' },
      ],
      edges: [{ from: 'first', to: 'second' }],
    });
    await page.goto(`${stack.url}/workflows/${wf.id}`);
    const second = page.locator('.react-flow__node[data-id="second"]');
    await second.click();
    await page.keyboard.press('Delete');
    await expect.poll(() => second.count()).toBe(0);
    await page.keyboard.press('Control+z');
    await expect.poll(() => second.count()).toBe(1);
    await expect.poll(() => page.locator('.react-flow__edge').count()).toBe(1);
    await page.keyboard.press('Control+Shift+z');
    await expect.poll(() => second.count()).toBe(0);
    await page.getByRole('button', { name: 'Undo' }).click();
    await expect.poll(() => second.count()).toBe(1);

    await page.getByRole('button', { name: 'Auto-layout' }).click();
    const boxes = await Promise.all(
      ['first', 'second'].map((id) => page.locator(`.react-flow__node[data-id="${id}"]`).boundingBox()),
    );
    expect(boxes[1]!.x).toBeGreaterThan(boxes[0]!.x + boxes[0]!.width);

    // A node dragged with the mouse follows the pointer (the canvas holds the drag), lands
    // where it is dropped, and the whole drag is one undo step.
    await page.waitForTimeout(400); // the auto-layout's fit animation
    const start = (await second.boundingBox())!;
    const dy = async () => (await second.boundingBox())!.y - start.y;
    await page.mouse.move(start.x + start.width / 2, start.y + start.height / 2);
    await page.mouse.down();
    await page.mouse.move(start.x + start.width / 2, start.y + start.height / 2 + 60, { steps: 6 });
    await expect.poll(dy).toBeGreaterThan(40);
    await page.mouse.move(start.x + start.width / 2, start.y + start.height / 2 + 120, { steps: 6 });
    await page.mouse.up();
    await expect.poll(dy).toBeGreaterThan(100);
    const dropped = await dy();
    await page.keyboard.press('Control+z');
    await expect.poll(dy).toBeCloseTo(0, 0);
    await page.keyboard.press('Control+Shift+z');
    await expect.poll(dy).toBeCloseTo(dropped, 0);

    await page.getByLabel('Workflow name').fill('e2e-edit-renamed');
    await page.getByRole('button', { name: 'Save new version' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved as version 2.' }).waitFor();
    await page.getByRole('button', { name: 'Versions' }).click();
    const versions = page.getByRole('dialog', { name: 'Versions' });
    await expect.poll(() => versions.getByRole('button', { name: /Open version/ }).count()).toBe(2);
    await versions.getByRole('button', { name: 'Open version 1' }).click();
    await expect.poll(() => page.getByLabel('Workflow name').inputValue()).toBe('e2e-edit');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export JSON' }).click(),
    ]);
    const path = await download.path();
    const exported = JSON.parse(readFileSync(path, 'utf8')) as { name: string; nodes: { id: string }[]; edges: unknown[] };
    expect(exported.name).toBe('e2e-edit');
    expect(exported.nodes.map((n) => n.id)).toEqual(['first', 'second']);

    const input = page.getByLabel('Import a definition file');
    await input.setInputFiles({ name: 'broken.json', mimeType: 'application/json', buffer: Buffer.from('{ nope') });
    await page.getByRole('alert').filter({ hasText: 'not valid JSON' }).waitFor();
    const imported = {
      ...exported,
      name: 'imported',
      nodes: [...exported.nodes, { id: 'third', type: 'transform', expression: '$second' }],
      edges: [...exported.edges, { from: 'second', to: 'third' }],
    };
    await input.setInputFiles({ name: 'wf.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(imported)) });
    await page.locator('.react-flow__node[data-id="third"]').waitFor();
    await expect.poll(() => page.getByLabel('Workflow name').inputValue()).toBe('imported');
    await page
      .getByRole('status')
      .filter({ hasText: /^Valid$/ })
      .waitFor();
    await page.getByRole('button', { name: 'Save new version' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved as version 3.' }).waitFor();
  });

  it('approves a waiting gate from the browser, with edited data and a comment', async () => {
    const wf = await stack.api<{ id: string }>('POST', '/workflows', {
      name: 'e2e-gate',
      nodes: [
        { id: 'prepare', type: 'transform', expression: "{ 'item': 'thing' }" },
        { id: 'approve', type: 'human_gate', prompt: 'Buy {{ $prepare.item }}?' },
        { id: 'after', type: 'transform', expression: "'bought ' & $approve.data.qty" },
      ],
      edges: [
        { from: 'prepare', to: 'approve' },
        { from: 'approve', to: 'after' },
      ],
    });
    const run = await stack.api<{ id: string }>('POST', `/workflows/${wf.id}/run`, { input: {} });
    await page.goto(`${stack.url}/runs/${run.id}`);
    const panel = page.getByRole('form', { name: 'Decision for approve' });
    await panel.waitFor({ timeout: 15_000 });
    await expect.poll(() => panel.textContent()).toContain('Buy thing?');
    await panel.getByLabel('Data (JSON, optional)').fill('{ "qty": 3 }');
    await panel.getByLabel('Comment').fill('looks good');
    await panel.getByRole('button', { name: 'Approve' }).click();
    await expect.poll(runStatus, { timeout: 15_000 }).toBe('succeeded');
    const record = await stack.api<{ nodes: Record<string, { output: unknown }> }>('GET', `/workflow_runs/${run.id}`);
    expect(record.nodes.approve?.output).toMatchObject({ approved: true, comment: 'looks good', data: { qty: 3 } });
    expect(record.nodes.after?.output).toBe('bought 3');
    await page.getByRole('figure', { name: 'Timeline of attempts' }).locator('[data-kind="gate"]').first().waitFor();
  });

  it('cancels a running run', async () => {
    const wf = await stack.api<{ id: string }>('POST', '/workflows', {
      name: 'e2e-slow',
      nodes: [{ id: 'wait', type: 'tool_call', tool: 'test.slow', input: { ms: 60000 } }],
      edges: [],
    });
    const run = await stack.api<{ id: string }>('POST', `/workflows/${wf.id}/run`, { input: {} });
    await page.goto(`${stack.url}/runs/${run.id}`);
    await expect
      .poll(() => page.locator('.react-flow__node[data-id="wait"] .tnode').getAttribute('data-status'), { timeout: 15_000 })
      .toBe('running');
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await expect.poll(runStatus, { timeout: 15_000 }).toBe('cancelled');
    await expect.poll(() => page.getByRole('button', { name: 'Cancel run' }).count()).toBe(0);
  });

  it('shows retries and backoff waits on the timeline', async () => {
    const wf = await stack.api<{ id: string }>('POST', '/workflows', {
      name: 'e2e-flaky',
      nodes: [
        {
          id: 'flaky',
          type: 'tool_call',
          tool: 'test.flaky',
          input: { failTimes: 2 },
          retry: { maxAttempts: 3, initialDelayMs: 150, backoffFactor: 2, jitter: false },
        },
      ],
      edges: [],
    });
    const run = await stack.api<{ id: string }>('POST', `/workflows/${wf.id}/run`, { input: {} });
    await page.goto(`${stack.url}/runs/${run.id}`);
    await expect.poll(runStatus, { timeout: 15_000 }).toBe('succeeded');
    const row = page.locator('.gantt-row[data-node-id="flaky"]');
    await expect.poll(() => row.locator('[data-kind="attempt"]').count()).toBe(3);
    await expect.poll(() => row.locator('[data-kind="backoff"]').count()).toBe(2);
    await expect.poll(() => row.locator('.gantt-bar.s-failed').count()).toBe(2);
  });

  it('retries a failed run from the failure: reused nodes are drawn apart, link their run, and the header shows the cost saved', async () => {
    const wf = await stack.api<{ id: string }>('POST', '/workflows', {
      name: 'e2e-retry',
      nodes: [
        { id: 'research', type: 'tool_call', tool: 'test.echo', input: { topic: 'x' } },
        { id: 'draft', type: 'tool_call', tool: 'test.echo', input: { from: '$research.topic' } },
        { id: 'publish', type: 'tool_call', tool: 'test.fails-once', input: { key: `e2e-retry-${Date.now()}` } },
      ],
      edges: [
        { from: 'research', to: 'draft' },
        { from: 'draft', to: 'publish' },
      ],
    });
    const run = await stack.api<{ id: string }>('POST', `/workflows/${wf.id}/run`, { input: {} });
    await page.goto(`${stack.url}/runs/${run.id}`);
    await expect.poll(runStatus, { timeout: 15_000 }).toBe('failed');
    await page.getByRole('button', { name: 'Retry from failure' }).click();
    await expect.poll(() => page.url(), { timeout: 15_000 }).not.toContain(run.id);
    await expect.poll(runStatus, { timeout: 15_000 }).toBe('succeeded');
    await expect.poll(() => page.locator('.tnode[data-reused="true"]').count()).toBe(2);
    expect(await page.locator('.tnode[data-node-id="publish"]').getAttribute('data-reused')).toBeNull();
    await expect.poll(() => page.locator('[data-field="cost-saved"]').textContent()).toMatch(/saved \$0\.002/);
    const reusedRow = page.locator('.gantt-row.reused[data-node-id="research"]');
    await expect.poll(() => reusedRow.count()).toBe(1);
    expect(await reusedRow.getByRole('link').getAttribute('href')).toBe(`/runs/${run.id}`);
    expect(await page.locator('.gantt-row[data-node-id="publish"] [data-kind="attempt"]').count()).toBe(1);

    // Rerun from a node of the finished retry: that node and what follows run again.
    const retryUrl = page.url();
    await page.locator('.react-flow__node[data-id="draft"]').click();
    await expect.poll(() => page.locator('[data-field="reused-from"]').count()).toBe(1);
    await page.getByRole('button', { name: 'Rerun from here' }).click();
    await expect.poll(() => page.url(), { timeout: 15_000 }).not.toBe(retryUrl);
    await expect.poll(runStatus, { timeout: 15_000 }).toBe('succeeded');
    await expect.poll(() => page.locator('.tnode[data-reused="true"]').count()).toBe(1);
    expect(await page.locator('.tnode[data-node-id="research"]').getAttribute('data-reused')).toBe('true');
  });

  it('resumes a dropped connection without losing or repeating events', async () => {
    const wf = await stack.api<{ id: string }>('POST', '/workflows', {
      name: 'e2e-drops',
      nodes: [
        {
          id: 'a',
          type: 'tool_call',
          tool: 'test.flaky',
          input: { failTimes: 3 },
          retry: { maxAttempts: 4, initialDelayMs: 250, backoffFactor: 1, jitter: false },
        },
        // Long enough that the stream is still open for several drops after the page is live
        // (the run starts before the page loads; a quick engine had finished it by then).
        { id: 'b', type: 'tool_call', tool: 'test.slow', input: { ms: 4000 } },
        { id: 'c', type: 'transform', expression: '$a.attempt' },
      ],
      edges: [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'c' },
      ],
    });
    const run = await stack.api<{ id: string }>('POST', `/workflows/${wf.id}/run`, { input: {} });
    await page.goto(`${stack.url}/runs/${run.id}`);
    await page.getByRole('status', { name: 'Connection' }).filter({ hasText: 'live' }).waitFor();
    // The server drops every open stream (as a restart or a proxy would), again and again.
    let drops = 0;
    const dropper = setInterval(() => {
      for (const close of [...stack.server.ctx.streams]) {
        close('test: dropped');
        drops++;
      }
    }, 120);
    try {
      await expect.poll(runStatus, { timeout: 20_000 }).toBe('succeeded');
    } finally {
      clearInterval(dropper);
    }
    expect(drops).toBeGreaterThanOrEqual(3);
    const record = await stack.api<{ lastSeq: number }>('GET', `/workflow_runs/${run.id}`);
    await page.getByRole('tab', { name: /Events/ }).click();
    await expect.poll(() => page.locator('table.events tr').count()).toBe(record.lastSeq);
    const seqs = await page.locator('table.events tr').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-seq'))));
    expect(seqs).toEqual(Array.from({ length: record.lastSeq }, (_, i) => i + 1));
    await expect.poll(() => page.locator('.gantt-row[data-node-id="a"] [data-kind="attempt"]').count()).toBe(0); // on the Events tab
    await page.getByRole('tab', { name: 'Timeline' }).click();
    await expect.poll(() => page.locator('.gantt-row[data-node-id="a"] [data-kind="attempt"]').count()).toBe(4);
  });

  it('instantiates a template from the gallery and opens it in the builder', async () => {
    const wf = await stack.api<{ id: string }>('POST', '/workflows', {
      name: 'e2e-template-source',
      nodes: [{ id: 'only', type: 'transform', expression: '42' }],
      edges: [],
    });
    await stack.api('POST', '/templates', { workflowId: wf.id, name: 'Answer template', description: 'returns 42' });
    await page.goto(`${stack.url}/templates`);
    await page.getByRole('button', { name: 'Use template Answer template' }).click();
    const dialog = page.getByRole('dialog', { name: 'Use template Answer template' });
    await expect.poll(() => dialog.getByLabel('Name of the new workflow').inputValue()).toBe('Answer template');
    await dialog.getByRole('button', { name: 'Create workflow' }).click();
    await page.waitForURL((u) => /\/workflows\/[^/]+$/.test(u.pathname) && !u.pathname.endsWith(wf.id));
    await page.locator('.react-flow__node[data-id="only"]').waitFor();
  });

  it('lists workflows with search, last run status and version; duplicates and deletes one', async () => {
    await page.goto(`${stack.url}/workflows`);
    const table = page.getByRole('table', { name: 'Workflows' });
    await table.waitFor();
    const built = table.getByRole('row').filter({ hasText: 'e2e-built' }).first();
    await expect.poll(() => built.textContent()).toMatch(/succeeded/);
    await page.getByLabel('Search workflows').fill('gate');
    await expect.poll(() => table.getByRole('row').count()).toBe(2); // header + e2e-gate
    await page.getByLabel('Search workflows').fill('zzz-nothing');
    await page.getByText('No workflow matches').waitFor();
    await page.getByLabel('Search workflows').fill('');

    await page.getByRole('button', { name: 'Duplicate e2e-slow' }).click();
    await page.waitForURL(/\/workflows\/[^/]+$/);
    await expect.poll(() => page.getByLabel('Workflow name').inputValue()).toBe('e2e-slow (copy)');
    await page.goto(`${stack.url}/workflows`);
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Delete e2e-slow (copy)' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Delete e2e-slow (copy)' }).count()).toBe(0);
    const after = await stack.api<{ items: { name: string }[] }>('GET', '/workflows');
    expect(after.items.map((w) => w.name)).not.toContain('e2e-slow (copy)');
  });

  it('lays out the builder and the run view at 1280×800 and at 1920×1080 without horizontal overflow', async () => {
    const list = await stack.api<{ items: { id: string }[] }>('GET', '/workflows');
    const wf = list.items[0]!;
    const runs = await stack.api<{ items: { id: string }[] }>('GET', `/workflows/${wf.id}/runs`);
    for (const size of [
      { width: 1280, height: 800 },
      { width: 1920, height: 1080 },
    ]) {
      await page.setViewportSize(size);
      for (const [path, parts] of [
        [`/workflows/${wf.id}`, ['Palette', 'Canvas', 'Inspector']],
        ...(runs.items[0] ? [[`/runs/${runs.items[0].id}`, ['Run graph', 'Run details']] as const] : []),
      ] as const) {
        await page.goto(`${stack.url}${path}`);
        for (const name of parts) {
          const box = await page.getByLabel(name, { exact: true }).first().boundingBox();
          expect(box, `${name} at ${size.width}×${size.height}`).not.toBeNull();
          expect(box!.x + box!.width).toBeLessThanOrEqual(size.width + 1);
          expect(box!.y).toBeLessThan(size.height);
          expect(box!.width).toBeGreaterThan(150);
        }
        const overflow = await page.evaluate('document.scrollingElement.scrollWidth - window.innerWidth');
        expect(overflow).toBeLessThanOrEqual(0);
      }
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('fits the 11-node demo at 1280×800 at a readable zoom: every node label is at least 9 px tall', async () => {
    const demo = JSON.parse(readFileSync(new URL('../../../examples/demo/hotel-trip.json', import.meta.url), 'utf8')) as {
      nodes: { id: string; type: string; agent?: unknown; tool?: string; input?: unknown }[];
    };
    // The same graph, with its agents and tool replaced by ones that need no registration.
    const nodes = demo.nodes.map((n) =>
      n.type === 'agent_call'
        ? { ...n, agent: { url: 'https://agent.example.com' } }
        : n.type === 'tool_call'
          ? { ...n, tool: 'http.request', input: { url: 'https://api.example.com/x' } }
          : n,
    );
    expect(nodes).toHaveLength(11);
    const wf = await stack.api<{ id: string }>('POST', '/workflows', { ...demo, name: 'e2e-readable', nodes });
    await page.setViewportSize({ width: 1280, height: 800 });
    for (const path of [`/workflows/${wf.id}`]) {
      await page.goto(`${stack.url}${path}`);
      await page.locator('.react-flow__node').nth(10).waitFor();
      await page.waitForTimeout(300); // the fit is applied on the first frame after measuring
      const seen = await page.evaluate(() => {
        const pane = document.querySelector('.react-flow')!.getBoundingClientRect();
        const vp = document.querySelector('.react-flow__viewport') as HTMLElement;
        const zoom = new DOMMatrixReadOnly(getComputedStyle(vp).transform).a;
        const labels = [...document.querySelectorAll('.react-flow__node .tnode-id')].map((el) => {
          const r = el.getBoundingClientRect();
          const fontPx = Number.parseFloat(getComputedStyle(el).fontSize) * zoom;
          const inView = r.right > pane.left && r.left < pane.right && r.bottom > pane.top && r.top < pane.bottom;
          return { text: (el.textContent ?? '').trim(), fontPx, inView, hidden: getComputedStyle(el).display === 'none' };
        });
        return { zoom, labels };
      });
      expect(seen.zoom).toBeGreaterThanOrEqual(0.7 - 1e-6);
      expect(seen.labels.map((l) => l.text).sort()).toEqual(nodes.map((n) => n.id).sort());
      for (const l of seen.labels) {
        expect(l.hidden, l.text).toBe(false);
        expect(l.fontPx, l.text).toBeGreaterThanOrEqual(9);
      }
      // Readable and on screen together: most of the graph, the rest a pan away.
      expect(seen.labels.filter((l) => l.inView).length).toBeGreaterThanOrEqual(5);
    }
  });

  it('sets, replaces and deletes a secret on the Secrets page without ever showing its value; the inspector offers it', async () => {
    const value = 'e2e-secret-value-7f3a9c';
    await page.goto(`${stack.url}/secrets`);
    await page.getByLabel('Name', { exact: true }).fill('E2E_TOKEN');
    await page.getByLabel('Value', { exact: true }).fill(value);
    await page.getByLabel('Description (optional)').fill('for the e2e test');
    await page.getByRole('button', { name: 'Set secret' }).click();
    await page.getByRole('table', { name: 'Secrets' }).getByText('E2E_TOKEN').waitFor();
    expect(await page.content()).not.toContain(value);
    await page.getByRole('button', { name: 'Replace E2E_TOKEN' }).click();
    await page.getByLabel('Value', { exact: true }).fill(`${value}-2`);
    await page.getByRole('button', { name: 'Set secret' }).click();
    await page.getByText('Saved E2E_TOKEN').waitFor();
    expect(await page.content()).not.toContain(value);

    const wf = await stack.api<{ id: string }>('POST', '/workflows', {
      name: 'e2e-secret-use',
      nodes: [
        {
          id: 'call',
          type: 'tool_call',
          tool: 'http.request',
          input: { url: 'https://api.example.com/x', headers: { Authorization: 'Bearer {{ $secrets.E2E_TOKEN }}' } },
        },
      ],
      edges: [],
    });
    await page.goto(`${stack.url}/workflows/${wf.id}`);
    await page.locator('.react-flow__node[data-id="call"]').click();
    const headers = page.getByRole('group', { name: 'Request headers' });
    expect(await headers.getByLabel('Header Authorization', { exact: true }).inputValue()).toBe(
      'Bearer {{ $secrets.E2E_TOKEN }}',
    );
    await headers.getByText('{{ $secrets.E2E_TOKEN }}').first().waitFor();

    await page.goto(`${stack.url}/secrets`);
    await page.getByRole('button', { name: 'Delete secret E2E_TOKEN' }).click();
    await page.getByRole('button', { name: 'Delete secret E2E_TOKEN' }).waitFor({ state: 'detached' });
  });

  it('shows no console errors on any page, and every control has an accessible name', async () => {
    // Errors are collected since the browser started (all scenarios above), not only here.
    const registry = hasRegistryRoutes(stack);
    const pages = ['/workflows', '/workflows/new', '/templates', '/secrets', '/no/such/page'];
    if (registry) pages.push('/agents', '/tools');
    const list = await stack.api<{ items: { id: string }[] }>('GET', '/workflows');
    const first = list.items[0];
    if (first) pages.push(`/workflows/${first.id}`, `/workflows/${first.id}/runs`);
    const unnamed: string[] = [];
    for (const p of pages) {
      const res = await page.goto(`${stack.url}${p}`);
      // The console works under its Content-Security-Policy: a violation would be a console error below.
      expect(res?.headers()['content-security-policy'], p).toContain("script-src 'self'");
      expect(res?.headers()['x-frame-options'], p).toBe('DENY');
      await page.waitForLoadState('networkidle');
      for (const c of await unnamedControls()) unnamed.push(`${p}: ${c}`);
    }
    expect(unnamed).toEqual([]);
    // Until the agent/tool registry routes exist, the builder's palette lookups 404 by design.
    const errors = registry
      ? browser.errors
      : browser.errors.filter((e) => !/\/api\/v1\/(agents|tools)\b/.test(e) && !/404/.test(e));
    expect(errors).toEqual([]);
  });
});
