/**
 * End-to-end (Chromium): a workflow's analytics page draws its charts (uPlot canvases) from the
 * server's analytics, switches the window, lists the runs behind a clicked bar, and two of them
 * open side by side on the compare page, which marks the node whose status and output differ.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, chromiumAvailable, launch, signIn } from './helpers/browser.ts';
import { buildConsole, type Stack, startStack } from './helpers/stack.ts';

let stack: Stack;
let browser: Browser;

describe.skipIf(!chromiumAvailable)('workflow analytics and run comparison in the console (Chromium)', () => {
  beforeAll(async () => {
    stack = await startStack(await buildConsole());
    browser = await launch({ width: 1280, height: 1000 });
    await signIn(browser.page, stack);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('charts the runs, lists the runs behind a bar and compares two of them', async () => {
    const page = browser.page;
    const wf = await stack.api<{ id: string }>('POST', '/workflows', {
      name: 'charted',
      inputSchema: { type: 'object', properties: { key: { type: 'string' } } },
      nodes: [
        { id: 'fetch', type: 'tool_call', tool: 'test.fails-once', input: { key: '$context.key' } },
        { id: 'price', type: 'tool_call', tool: 'test.echo', input: { key: '$fetch.key' } },
      ],
      edges: [{ from: 'fetch', to: 'price' }],
    });
    // `test.fails-once` fails the first time it sees a key: e2e-a fails, then succeeds; e2e-b fails.
    const ids: string[] = [];
    for (const key of ['e2e-a', 'e2e-a', 'e2e-b']) {
      const r = await stack.api<{ id: string }>('POST', `/workflows/${wf.id}/run`, { input: { key } });
      await stack.engine.waitForRun(r.id);
      ids.push(r.id);
    }

    await page.goto(`${stack.url}/workflows/${wf.id}/runs`);
    await page.getByRole('link', { name: 'Analytics' }).click();
    await page.getByRole('heading', { name: 'Analytics of charted' }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/workflows/${wf.id}/analytics`);
    const totals = page.getByRole('definition');
    await expect.poll(() => totals.first().textContent()).toBe('3');
    await expect.poll(() => page.locator('.chart-canvas canvas').count()).toBe(3);
    await page.getByRole('table', { name: 'Failures by error code' }).getByText('TOOL_ERROR').waitFor();
    expect(await page.getByRole('table', { name: 'Failures by error code' }).locator('tbody tr').first().textContent()).toContain(
      '2',
    );
    await page.getByRole('table', { name: 'Slowest nodes' }).getByText('fetch').waitFor();
    await page.getByRole('table', { name: 'Most expensive nodes' }).getByText('price').waitFor();

    // The window: 24 h by the hour; the URL says so.
    await page.getByRole('button', { name: '24h' }).click();
    await expect.poll(() => new URL(page.url()).search).toBe('?window=24h');
    await expect.poll(() => page.getByRole('button', { name: '24h' }).getAttribute('aria-pressed')).toBe('true');

    // Click the last bar (the current hour) of "Runs by status": its three runs are listed. The
    // chart is drawn again for the new window (a fetch, then uPlot): on a busy machine its plotting
    // area can be missing or not yet final when first looked for, so the click is repeated (a click
    // picks the bar; it does not toggle) until the list is there.
    const over = page.getByTestId('chart-Runs by status').locator('.u-over');
    const listed = page.getByRole('table', { name: 'Runs in the period' });
    await expect
      .poll(
        async () => {
          if ((await listed.count()) > 0 && (await listed.locator('tbody tr').count()) === 3) return 3;
          const box = await over.boundingBox();
          if (!box || box.width < 10 || box.height < 10) return 'no plotting area yet';
          await page.mouse.move(box.x + box.width - 2, box.y + box.height / 2);
          await page.mouse.click(box.x + box.width - 2, box.y + box.height / 2);
          await listed.waitFor({ timeout: 2000 }).catch(() => {});
          return listed.locator('tbody tr').count();
        },
        { timeout: 30_000, interval: 500 },
      )
      .toBe(3);
    // Only the failed ones.
    await page.getByRole('button', { name: 'failed 2' }).click();
    await expect.poll(() => listed.locator('tbody tr').count()).toBe(2);
    await page.getByRole('button', { name: 'all 3' }).click();
    await expect.poll(() => listed.locator('tbody tr').count()).toBe(3);

    // Pick the first (failed) run and the second (succeeded) one, and compare them.
    await page.getByRole('checkbox', { name: `Compare run ${ids[0]!.slice(-8)}` }).check();
    await page.getByRole('checkbox', { name: `Compare run ${ids[1]!.slice(-8)}` }).check();
    await page.getByRole('button', { name: 'Compare selected (2/2)' }).click();
    await page.getByRole('heading', { name: 'Compare runs' }).waitFor();
    const url = new URL(page.url());
    expect(url.pathname).toBe('/runs/compare');
    expect(new Set([url.searchParams.get('a'), url.searchParams.get('b')])).toEqual(new Set([ids[0], ids[1]]));
    const nodes = page.getByRole('table', { name: 'Nodes compared' });
    await nodes.locator('tbody tr').first().waitFor();
    // `fetch` failed in one run and succeeded in the other: marked as changed, with its output differences.
    const fetchRow = nodes.locator('tbody tr', { hasText: 'fetch' });
    expect(await fetchRow.getAttribute('data-changed')).toBe('true');
    expect(await fetchRow.textContent()).toMatch(/failed/);
    expect(await fetchRow.textContent()).toMatch(/succeeded/);
    await fetchRow.getByText(/difference/).click();
    await fetchRow.getByRole('table', { name: 'Output differences of fetch' }).getByText('$').first().waitFor();
    const runs = page.getByRole('table', { name: 'Runs compared' });
    expect(await runs.locator('tr', { hasText: 'Status' }).textContent()).toContain('changed');

    // Opened directly by its URL (what the run history links to) it shows the same.
    await page.goto(`${stack.url}/runs/compare?a=${ids[1]}&b=${ids[2]}`);
    await page.getByRole('table', { name: 'Nodes compared' }).locator('tbody tr').first().waitFor();
    expect(browser.errors).toEqual([]);
  }, 120_000);
});
