/**
 * End-to-end (Chromium): the builder's Triggers panel. A schedule's cron field lists the next five
 * fire times; a saved webhook shows its URL, creates its secret once, and a delivery signed with
 * that secret starts a run that the runs page shows as started by the webhook.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, chromiumAvailable, launch, signIn } from './helpers/browser.ts';
import { buildConsole, type Stack, startStack } from './helpers/stack.ts';

let stack: Stack;
let browser: Browser;

describe.skipIf(!chromiumAvailable)('triggers in the console (Chromium)', () => {
  beforeAll(async () => {
    stack = await startStack(await buildConsole());
    browser = await launch();
    await signIn(browser.page, stack);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('edits a schedule, creates a webhook secret and shows the run a signed delivery starts', async () => {
    const page = browser.page;
    const wf = await stack.api<{ id: string }>('POST', '/workflows', {
      name: 'hooked',
      nodes: [{ id: 'greet', type: 'transform', expression: "'hello ' & $context.name" }],
      triggers: [{ id: 'inbound', type: 'webhook', input: '{ "name": $body.who }' }],
    });
    await page.goto(`${stack.url}/workflows/${wf.id}`);
    await page.getByRole('button', { name: /^Triggers/ }).click();
    const dialog = page.getByRole('dialog', { name: 'Triggers' });
    await dialog.getByText('URL:').waitFor();

    await dialog.getByRole('button', { name: 'Add schedule' }).click();
    const schedule = dialog.getByRole('group', { name: 'Trigger schedule_1' });
    await schedule.getByLabel(/^Cron/).fill('*/15 * * * *');
    await expect.poll(() => schedule.getByRole('list', { name: 'Next fire times' }).locator('li').count()).toBe(5);
    await schedule.getByLabel(/^Cron/).fill('61 * * * *');
    await schedule.getByRole('alert').filter({ hasText: 'not valid' }).waitFor();
    await schedule.getByRole('button', { name: 'Remove trigger' }).click();

    await dialog.getByRole('button', { name: 'Create secret' }).click();
    const secret = (await dialog.getByTestId('webhook-secret').textContent()) ?? '';
    expect(secret).toMatch(/^whsec_/);
    await dialog.getByText('openssl dgst -sha256').waitFor();

    const body = JSON.stringify({ who: 'console' });
    const res = await fetch(`${stack.url}/api/v1/hooks/${wf.id}/inbound?wait=10`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-trellis-signature': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
      },
      body,
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { output: unknown }).output).toEqual({ greet: 'hello console' });

    await page.goto(`${stack.url}/workflows/${wf.id}/runs`);
    await page.getByRole('table', { name: 'Runs' }).getByText('webhook').waitFor();
    await page.goto(`${stack.url}/workflows`);
    await page.getByText('1 webhook').waitFor();
    expect(browser.errors).toEqual([]);
  });
});
