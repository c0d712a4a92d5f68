/**
 * The Tools page in a real browser against the real server: an administrator registers a stdio
 * MCP server (a real child process: the connectors' stateful fixture) with its arguments,
 * environment, working directory and a shared session scope, and the card shows them as the API
 * stored them (values hidden); someone else is offered Streamable HTTP only, still with the
 * session scope.
 */
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, chromiumAvailable, launch, signIn } from './helpers/browser.ts';
import { buildConsole, hasRegistryRoutes, type Stack, startStack } from './helpers/stack.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const fixture = join(ROOT, 'packages/connectors/test/fixtures/stateful-mcp-stdio.ts');
// By URL: the process runs in another directory (cwd), where a bare `tsx` would not resolve.
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
let stack: Stack;
let browser: Browser;
let page: Page;
let workdir: string;

describe.skipIf(!chromiumAvailable)('the Tools page registers MCP servers with their settings (Chromium)', () => {
  beforeAll(async () => {
    const dist = await buildConsole();
    stack = await startStack(dist);
    workdir = realpathSync(mkdtempSync(join(tmpdir(), 'trellis-e2e-stdio-')));
    browser = await launch();
    page = browser.page;
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    if (workdir) rmSync(workdir, { recursive: true, force: true });
  });

  it('an administrator registers a stdio server with arguments, env, cwd and shared sessions', async () => {
    if (!hasRegistryRoutes(stack)) return;
    await signIn(page, stack);
    await page.goto(`${stack.url}/tools`);
    const form = page.getByRole('form', { name: 'Register an MCP server' });
    await form.getByLabel('Transport').selectOption('stdio');
    await form.getByLabel('Server name').fill('fx');
    await form.getByLabel('Command').fill(process.execPath);
    await form.getByLabel('Arguments (one per line)').fill(`--import\n${tsx}\n${fixture}`);
    await form.getByLabel('Environment (optional, NAME=value per line)').fill('GREETING=hello-e2e-5678');
    await form.getByLabel('Working directory (optional)').fill(workdir);
    await form.getByLabel('Sessions').selectOption('shared');
    // A line that is not NAME=value is refused before anything is sent.
    await form.getByLabel('Environment (optional, NAME=value per line)').fill('GREETING');
    await form.getByRole('button', { name: 'Register server' }).click();
    await expect.poll(() => page.getByRole('alert').first().textContent()).toContain('NAME=value');
    await form.getByLabel('Environment (optional, NAME=value per line)').fill('GREETING=hello-e2e-5678');
    await form.getByRole('button', { name: 'Register server' }).click();

    // The process started (its tools are listed) and the card says how it is set up.
    await page.getByRole('list', { name: 'Tools of fx' }).waitFor({ timeout: 60_000 });
    await expect.poll(() => page.getByRole('list', { name: 'Tools of fx' }).textContent()).toContain('fx/whoami');
    const text = (await page.locator('[aria-label="Settings of fx"]').textContent()) ?? '';
    expect(text).toContain('shared by every run');
    expect(text).toContain('GREETING=[hidden]');
    expect(text).toContain(workdir);
    expect(text).not.toContain('hello-e2e-5678');

    const stored = await stack.api<{ sessions: string; env: Record<string, string>; cwd: string; args: string[] }>(
      'GET',
      '/tool_servers/fx',
    );
    expect(stored).toMatchObject({
      sessions: 'shared',
      env: { GREETING: '[hidden]' },
      cwd: workdir,
      args: ['--import', tsx, fixture],
    });
    expect(browser.errors).toEqual([]);
  }, 120_000);

  it('someone who is not an administrator is offered Streamable HTTP only, with the session scope', async () => {
    if (!hasRegistryRoutes(stack)) return;
    const { token } = await stack.api<{ token: string }>('POST', '/tokens', { principal: 'bob', name: 'bob' });
    await page.goto(`${stack.url}/#token=${token}`);
    await page.getByRole('heading', { name: 'Workflows', exact: true }).waitFor();
    await page.goto(`${stack.url}/tools`);
    const form = page.getByRole('form', { name: 'Register an MCP server' });
    await form.getByLabel('MCP URL').waitFor();
    await form.getByLabel('Sessions').waitFor();
    expect(await form.getByLabel('Transport').count()).toBe(0);
    expect(await form.getByLabel('Command').count()).toBe(0);
    // The stdio server's arguments, env and cwd are not shown to bob (not its creator).
    const text = (await page.locator('[aria-label="Settings of fx"]').textContent()) ?? '';
    expect(text).toContain('shared by every run');
    expect(text).not.toContain('GREETING');
    expect(text).not.toContain(workdir);
  }, 60_000);
});
