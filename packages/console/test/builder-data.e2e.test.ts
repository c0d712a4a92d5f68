/**
 * End-to-end, data-aware building (#21): `trellis serve --demo` (its real A2A agents and MCP
 * server on loopback) serving a fresh console build, in headless Debian Chromium. Run the demo
 * workflow once through the UI (the gate, then the concierge's question answered as a question);
 * in the builder pick a binding suggested from that run's real output (`$search.hotels[0].name`)
 * and see its preview; test one node in a scratch run and see the history unchanged; re-run with
 * an input from the history; the runs page, its filters and the compare selection; the event
 * log's type filter and millisecond times.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunRecord } from '@trellis/core';
import { type RunningServer, startTrellisServer } from '@trellis/server';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoServices } from '../../../examples/demo/services.ts';
import { type Browser, chromiumAvailable, launch } from './helpers/browser.ts';
import { buildConsole } from './helpers/stack.ts';

const ADMIN = 'e2e-data-admin-token-0123456789abcdef';
let srv: RunningServer;
let browser: Browser;
let page: Page;
let workflowId: string;
let firstRun: RunRecord;

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${srv.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

async function until<T>(what: string, get: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const historyIds = async () =>
  (await api<{ items: { id: string }[] }>('GET', `/workflows/${workflowId}/runs`)).items.map((r) => r.id);

describe.skipIf(!chromiumAvailable)('data-aware builder end to end (Chromium, demo agents)', () => {
  beforeAll(async () => {
    const dist = await buildConsole();
    srv = await startTrellisServer({
      db: join(mkdtempSync(join(tmpdir(), 'trellis-e2e-data-')), 'trellis.db'),
      host: '127.0.0.1',
      port: 0,
      examplesDir: fileURLToPath(new URL('../../../examples/', import.meta.url)),
      demoServices: startDemoServices,
      demo: true,
      adminToken: ADMIN,
      consoleDir: dist,
      graceMs: 0,
    });
    const list = await api<{ items: { id: string; name: string }[] }>('GET', '/workflows?limit=50');
    workflowId = list.items.find((w) => w.name === 'demo-hotel-trip')!.id;
    browser = await launch({ width: 1440, height: 900 });
    page = browser.page;
    page.on('dialog', (d) => void d.accept());
    await page.goto(`${srv.url}/#token=${ADMIN}`);
    await page.getByRole('heading', { name: 'Workflows', exact: true }).waitFor();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await srv?.close(0);
  });

  it('runs the demo once: the gate is approved, the concierge question is answered as a question and kept in the record', async () => {
    await page.goto(`${srv.url}/workflows/${workflowId}/runs`);
    await page.getByRole('button', { name: 'Start run' }).click();
    await page.getByLabel('city').fill('Lisbon');
    await page.getByRole('form', { name: 'Start a run' }).getByRole('button', { name: 'Start run', exact: true }).click();
    await page.waitForURL(/\/runs\/[^/]+$/);
    const runId = decodeURIComponent(page.url().split('/runs/')[1]!);
    await page.getByRole('form', { name: 'Decision for approve' }).getByRole('button', { name: 'Approve' }).click();
    // The concierge (A2A input-required) asks which room: a question with an answer box, not Approve/Reject.
    const question = page.getByRole('form', { name: 'Question from concierge' });
    await question.waitFor({ timeout: 30_000 });
    expect(await question.locator('[data-field="question"]').textContent()).toMatch(/room/i);
    expect(await question.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    await question.getByLabel('Your answer').fill('deluxe');
    await question.getByRole('button', { name: 'Send answer' }).click();
    firstRun = await until('the run to succeed', async () => {
      const r = await api<RunRecord>('GET', `/workflow_runs/${runId}`);
      return r.status === 'succeeded' ? r : undefined;
    });
    // The node's record shows the question and its answer.
    await page.locator('.react-flow__node[data-id="book"]').click();
    const qa = page.getByRole('region', { name: 'Questions and answers' });
    await qa.waitFor();
    expect(await qa.textContent()).toMatch(/room/i);
    expect(await qa.locator('[data-field="answer"]').textContent()).toContain('deluxe');
    // The event log: milliseconds, and a filter by type.
    await page.getByRole('tab', { name: /Events/ }).click();
    const log = page.getByRole('table', { name: 'Event log' });
    expect(await log.locator('time').first().textContent()).toMatch(/^\d\d:\d\d:\d\d\.\d{3}$/);
    await page.getByLabel('Filter events by type').selectOption('node.waiting');
    await expect.poll(() => log.locator('tr').count()).toBe(2);
    const types = await log.locator('tr td:nth-child(3)').allTextContents();
    expect(new Set(types)).toEqual(new Set(['node.waiting']));
  }, 90_000);

  it('suggests a binding from the run data and previews it; tests one node in a scratch run; the history stays as it was', async () => {
    const hotels = (firstRun.nodes.search!.output as { hotels: { name: string }[] }).hotels;
    await page.goto(`${srv.url}/workflows/${workflowId}`);
    await page.locator('.react-flow__node[data-id="analyze"]').click();
    const data = page.getByRole('region', { name: 'Run data' });
    await data.getByText(`run ${firstRun.id.slice(-8)}`).waitFor();
    // The suggestion comes from the real output (an agent's known fields are only .text/.artifacts).
    const field = page.getByLabel('hotels', { exact: true });
    const listId = await field.getAttribute('list');
    const offered = await page
      .locator(`datalist[id="${listId}"] option`)
      .evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(offered).toContain('$search.hotels[0].name');
    expect(offered).not.toContain('$analyze');
    await field.fill('$search.hotels[0].name');
    const preview = page.locator('.binding-field').filter({ has: field }).getByRole('status', { name: 'Preview' });
    await expect.poll(() => preview.textContent()).toBe(`→ ${JSON.stringify(hotels[0]!.name)}`);
    // An expression previews too.
    await page.locator('.react-flow__node[data-id="has_results"]').click();
    await page.getByLabel('Expression (JSONata)').fill('$count($search.hotels) > 100');
    await expect.poll(() => page.getByRole('status', { name: 'Preview' }).first().textContent()).toBe('→ false');

    // Test the node as drafted: the upstream search is reused from the run, nothing else runs.
    const before = await historyIds();
    await page.getByRole('button', { name: 'Test this node' }).click();
    const result = page.getByRole('status', { name: 'Test result' });
    await result.waitFor({ timeout: 30_000 });
    expect(await result.textContent()).toContain(`upstream reused from ${firstRun.id.slice(-8)}`);
    expect(await result.locator('pre').textContent()).toContain('"value": false');
    expect(await historyIds()).toEqual(before);
    const list = await api<{ items: { id: string; lastRun: { id: string } }[] }>('GET', '/workflows?limit=50');
    expect(list.items.find((w) => w.id === workflowId)!.lastRun.id).toBe(firstRun.id);
    // Run up to here: the search runs again (for real), still outside the history.
    await page.getByRole('button', { name: 'Run up to here' }).click();
    await expect.poll(() => result.textContent(), { timeout: 30_000 }).not.toContain('upstream reused');
    expect(await historyIds()).toEqual(before);
    expect(browser.errors).toEqual([]);
  }, 90_000);

  it('re-runs with an input from the history; the runs page filters and selects two runs to compare', async () => {
    await page.goto(`${srv.url}/workflows/${workflowId}/runs`);
    const row = page.getByRole('row').filter({ hasText: firstRun.id.slice(-8) });
    expect(await row.locator('.input-preview').textContent()).toContain('Lisbon');
    await row.getByRole('button', { name: 'Re-run with this input' }).click();
    const form = page.getByRole('form', { name: 'Start a run' });
    await expect.poll(() => form.getByLabel('city').inputValue()).toBe('Lisbon');
    await form.getByRole('button', { name: 'Start run', exact: true }).click();
    await page.waitForURL(/\/runs\/[^/]+$/);
    const second = decodeURIComponent(page.url().split('/runs/')[1]!);
    expect(second).not.toBe(firstRun.id);
    expect((await api<RunRecord>('GET', `/workflow_runs/${second}`)).input).toEqual(firstRun.input);
    await until('the second run to wait at its gate', async () =>
      (await api<RunRecord>('GET', `/workflow_runs/${second}`)).status === 'waiting' ? true : undefined,
    );

    // The runs page across workflows: both runs, the status filter, the compare link.
    await page.goto(`${srv.url}/runs`);
    const table = page.getByRole('table', { name: 'Runs' });
    await table
      .getByRole('row')
      .filter({ hasText: second.slice(-8) })
      .waitFor();
    await page.getByRole('form', { name: 'Filter runs' }).getByLabel('Status').selectOption('succeeded');
    await expect
      .poll(() =>
        table
          .getByRole('row')
          .filter({ hasText: second.slice(-8) })
          .count(),
      )
      .toBe(0);
    await table
      .getByRole('row')
      .filter({ hasText: firstRun.id.slice(-8) })
      .waitFor();
    await page.getByRole('form', { name: 'Filter runs' }).getByLabel('Status').selectOption('');
    await page.getByLabel(`Select run ${firstRun.id.slice(-8)} to compare`).check();
    await page.getByLabel(`Select run ${second.slice(-8)} to compare`).check();
    const compare = page.getByRole('link', { name: 'Compare the 2 selected runs' });
    expect(await compare.getAttribute('href')).toBe(`/runs/compare?a=${firstRun.id}&b=${second}`);
    await api('POST', `/workflow_runs/${second}/cancel`, {});
    // …and the two runs side by side.
    await compare.click();
    await page.getByRole('heading', { name: 'Compare runs' }).waitFor();
    await page.getByRole('table', { name: 'Nodes compared' }).locator('tbody tr').first().waitFor();
    expect(await page.getByRole('table', { name: 'Runs compared' }).textContent()).toContain(firstRun.id.slice(-8));
    expect(browser.errors).toEqual([]);
  }, 90_000);
});
