/**
 * End-to-end (Chromium): `map` and `workflow` nodes in the console. The builder's palette offers
 * both, the inspector edits a map's items, concurrency, item-error policy and per-item body, and
 * offers the workflows the user can run; the run view shows a map's progress ("done · running ·
 * failed of n") with an item list that stays usable at 1,000 items (only the rows in view are in
 * the page), and links a `workflow` node to its child run and the child run back to its parent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, chromiumAvailable, launch, signIn } from './helpers/browser.ts';
import { buildConsole, type Stack, startStack } from './helpers/stack.ts';

let stack: Stack;
let browser: Browser;

const ITEMS = 1000;

describe.skipIf(!chromiumAvailable)('map and sub-workflows in the console (Chromium)', () => {
  beforeAll(async () => {
    stack = await startStack(await buildConsole());
    browser = await launch();
    await signIn(browser.page, stack);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('builder: the palette offers map and workflow nodes; the inspector edits the map and picks a workflow', async () => {
    const page = browser.page;
    const child = await stack.api<{ id: string }>('POST', '/workflows', {
      name: 'e2e-child-greeter',
      nodes: [{ id: 'greet', type: 'transform', expression: "'hello ' & $context.name" }],
    });
    await page.goto(`${stack.url}/workflows/new`);
    await page.getByRole('toolbar', { name: 'Builder' }).waitFor();
    const search = page.getByLabel('Search nodes, skills and tools');
    await search.fill('map');
    await search.press('Enter');
    const items = page.getByLabel('Items (a binding that resolves to an array)');
    await items.waitFor();
    await items.fill('$context.names');
    await page.getByLabel('Concurrency (items at once)').fill('3');
    await page.getByLabel('On item error').selectOption('continue');
    const body = page.getByRole('group', { name: 'Per item (do)' });
    await body.getByLabel('Type').selectOption('transform');
    expect(await items.inputValue()).toBe('$context.names');
    expect(await page.getByLabel('On item error').inputValue()).toBe('continue');

    await search.fill('workflow');
    await search.press('Enter');
    const picker = page.getByLabel('Workflow', { exact: true });
    await picker.waitFor();
    // The picker offers the workflows this user can run (a datalist of names, ids as labels).
    const listId = await picker.getAttribute('list');
    expect(listId).toBeTruthy();
    await expect
      .poll(() =>
        page.locator(`datalist[id="${listId}"] option`).evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)),
      )
      .toContain('e2e-child-greeter');
    await picker.fill(child.id);
    expect(await picker.inputValue()).toBe(child.id);
    await page.locator('.react-flow__node[data-id="map_1"]').waitFor();
    await page.locator('.react-flow__node[data-id="workflow_1"]').waitFor();
    expect(browser.errors).toEqual([]);
  });

  it('run view: map progress and a virtualised item list; a workflow node links to its child run and back', async () => {
    const page = browser.page;
    const child = await stack.api<{ id: string }>('POST', '/workflows', {
      name: 'e2e-child-summary',
      nodes: [{ id: 'tally', type: 'transform', expression: "'summarised ' & $string($count($context.values))" }],
    });
    const parent = await stack.api<{ id: string }>('POST', '/workflows', {
      name: 'e2e-map-parent',
      inputSchema: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } },
      nodes: [
        { id: 'numbers', type: 'transform', expression: '[1..$context.n]' },
        { id: 'doubled', type: 'map', items: '$numbers', concurrency: 16, do: { type: 'transform', expression: '$item * 2' } },
        { id: 'summary', type: 'workflow', workflow: child.id, input: { values: '$doubled' } },
      ],
      edges: [
        { from: 'numbers', to: 'doubled' },
        { from: 'doubled', to: 'summary' },
      ],
    });
    const run = await stack.api<{ id: string }>('POST', `/workflows/${parent.id}/run`, { input: { n: ITEMS } });
    await page.goto(`${stack.url}/runs/${run.id}`);
    const rec = await stack.engine.waitForRun(run.id);
    expect(rec.error ?? null, JSON.stringify(rec.error)).toBeNull();
    await expect
      .poll(() => page.locator('[data-run-status]').getAttribute('data-run-status'), { timeout: 60_000 })
      .toBe('succeeded');

    await page.locator('.react-flow__node[data-id="doubled"]').click();
    const mapItems = page.getByRole('region', { name: 'Map items' });
    await expect
      .poll(() => mapItems.locator('[data-field="map-progress"]').textContent())
      .toMatch(new RegExp(`${ITEMS} done · 0 running · 0 failed of ${ITEMS}`));
    // Virtualised: thousands of items, a few dozen rows in the page.
    const rows = mapItems.getByRole('list', { name: 'Items' }).locator('li');
    expect(await rows.count()).toBeLessThan(60);
    await mapItems.locator('[data-field="map-item-list"]').evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await mapItems.locator(`li[data-item="${ITEMS - 1}"]`).waitFor();
    expect(await rows.count()).toBeLessThan(60);
    await mapItems.getByLabel('Show').selectOption('failed');
    await expect.poll(() => rows.count()).toBe(0);

    // The workflow node links to its child run; the child run links back to the parent.
    await page.locator('.react-flow__node[data-id="summary"]').click();
    const childLink = page.locator('[data-field="child-run"] a');
    await childLink.waitFor();
    await childLink.click();
    await expect.poll(() => page.url()).not.toContain(run.id);
    const back = page.locator('[data-field="parent-run"]');
    await back.waitFor();
    expect(await back.textContent()).toMatch(/Child run of/);
    expect(await back.textContent()).toContain('summary');
    await back.getByRole('link').click();
    await expect.poll(() => page.url()).toContain(`/runs/${run.id}`);
    expect(browser.errors).toEqual([]);
  }, 120_000);
});
