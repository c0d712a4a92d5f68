/**
 * Takes the README/docs screenshots of the console (docs/images/console-*.png) in headless
 * Chromium against the real server: the builder with a node selected, and the live run view
 * of a run that retried a node and waits at a gate. Also the builder and the run view at
 * 1440×900 and 820 px wide, light and dark (docs/images/builder-<width>-<scheme>.png,
 * run-<width>-<scheme>.png), which docs/console.md shows.
 *
 *   npx tsx packages/console/bench/screenshots.ts
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { launch } from '../test/helpers/browser.ts';
import { buildConsole, startStack } from '../test/helpers/stack.ts';

const images = join(fileURLToPath(new URL('../../..', import.meta.url)), 'docs', 'images');

const definition = {
  name: 'hotel-booking',
  description: 'Search, check, ask a human, confirm',
  inputSchema: { type: 'object', required: ['city'], properties: { city: { type: 'string' }, maxPrice: { type: 'number' } } },
  nodes: [
    {
      id: 'search',
      type: 'tool_call',
      tool: 'test.flaky',
      input: { failTimes: 2, city: '$context.city' },
      retry: { maxAttempts: 4, initialDelayMs: 400, jitter: false },
    },
    { id: 'found', type: 'condition', expression: '$search.attempt > 0' },
    { id: 'pick', type: 'transform', expression: "{ 'hotel': 'Casa ' & $context.city, 'price': 120 }" },
    { id: 'nothing', type: 'transform', expression: "{ 'message': 'nothing in ' & $context.city }" },
    { id: 'approve', type: 'human_gate', prompt: 'Book {{ $pick.hotel }} for {{ $pick.price }}?' },
    { id: 'confirm', type: 'tool_call', tool: 'test.echo', input: { booking: '$approve.data' } },
    { id: 'done', type: 'join', mode: 'any' },
  ],
  edges: [
    { from: 'search', to: 'found' },
    { from: 'found', to: 'pick', condition: '$found.value = true' },
    { from: 'found', to: 'nothing', condition: '$found.value = false' },
    { from: 'pick', to: 'approve' },
    { from: 'approve', to: 'confirm' },
    { from: 'confirm', to: 'done' },
    { from: 'nothing', to: 'done' },
  ],
  output: { booking: '$confirm', fallback: '$nothing' },
};

const SIZES = [
  { name: '1440', width: 1440, height: 900 },
  { name: '820', width: 820, height: 900 },
] as const;
const SCHEMES = ['light', 'dark'] as const;

/** One screenshot per size and colour scheme; says each file's size (they must stay small). */
async function variants(page: Page, stem: string, ready: () => Promise<void>) {
  for (const size of SIZES) {
    for (const scheme of SCHEMES) {
      await page.setViewportSize({ width: size.width, height: size.height });
      await page.emulateMedia({ colorScheme: scheme });
      await ready();
      await page.waitForTimeout(400);
      const path = join(images, `${stem}-${size.name}-${scheme}.png`);
      await page.screenshot({ path });
      console.log(`${path}: ${Math.round(statSync(path).size / 1024)} KB`);
    }
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.emulateMedia({ colorScheme: 'light' });
}

async function main() {
  const stack = await startStack(await buildConsole());
  const browser = await launch({ width: 1280, height: 800 });
  const page = browser.page;
  try {
    const wf = await stack.api<{ id: string }>('POST', '/workflows', definition);
    await page.goto(`${stack.url}/#token=${stack.token}`);
    await page.getByRole('heading', { name: 'Workflows', exact: true }).waitFor();

    await page.goto(`${stack.url}/workflows/${wf.id}`);
    await page.locator('.react-flow__node[data-id="pick"]').click();
    await page.getByRole('form', { name: 'Node pick' }).waitFor();
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(images, 'console-builder.png') });
    await variants(page, 'builder', async () => {
      await page.goto(`${stack.url}/workflows/${wf.id}`);
      await page.locator('.react-flow__node[data-id="pick"]').focus();
      await page.keyboard.press('Enter');
      await page.getByRole('form', { name: 'Node pick' }).waitFor();
    });

    const run = await stack.api<{ id: string }>('POST', `/workflows/${wf.id}/run`, { input: { city: 'Lisbon' } });
    await page.goto(`${stack.url}/runs/${run.id}`);
    await page.getByRole('form', { name: 'Decision for approve' }).waitFor({ timeout: 20_000 });
    await page.getByLabel('Data (JSON, optional)').fill('{ "room": "double" }');
    await page.getByLabel('Comment').fill('within budget');
    await page.waitForTimeout(600);
    await page.screenshot({ path: join(images, 'console-run-view.png') });
    await variants(page, 'run', async () => {
      await page.goto(`${stack.url}/runs/${run.id}`);
      await page.getByRole('form', { name: 'Decision for approve' }).waitFor({ timeout: 20_000 });
    });
    await page.goto(`${stack.url}/runs/${run.id}`);
    await page.getByRole('form', { name: 'Decision for approve' }).waitFor({ timeout: 20_000 });

    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    await page.locator('[data-run-status="succeeded"]').waitFor({ timeout: 20_000 });
    await page.getByRole('tab', { name: /Events/ }).click();
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(images, 'console-run-finished.png') });

    await page.goto(`${stack.url}/workflows`);
    await page.getByRole('table', { name: 'Workflows' }).waitFor();
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(images, 'console-workflows.png') });
    console.log(`screenshots written to ${images}`);
  } finally {
    await browser.close();
    await stack.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
