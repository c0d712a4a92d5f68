/**
 * "How to call it" in a real browser against the real server: the workflow's runs page shows
 * its MCP tool name, the `/mcp` URL and its A2A card URL, and every snippet it offers works as
 * copied — the MCP host configuration reaches the tool with the official MCP client, the curl
 * command gets a completed A2A task, and the @a2a-js/sdk script runs and gets the output.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, chromiumAvailable, launch, signIn } from './helpers/browser.ts';
import { buildConsole, type Stack, startStack } from './helpers/stack.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
// Asynchronous: the server answering these commands runs in this process.
const run = promisify(execFile);
let stack: Stack;
let browser: Browser;
let page: Page;
let workflowId: string;

async function snippet(title: string): Promise<string> {
  await page.getByRole('tab', { name: title }).click();
  return (await page.locator('.call-snippet pre').innerText()).trim();
}

describe.skipIf(!chromiumAvailable)('how to call a workflow (Chromium)', () => {
  beforeAll(async () => {
    const dist = await buildConsole();
    stack = await startStack(dist);
    const wf = await stack.api<{ id: string }>('POST', '/workflows', {
      name: 'double-it',
      description: 'Doubles a number',
      inputSchema: { type: 'object', required: ['n'], properties: { n: { type: 'number', default: 21 } } },
      nodes: [{ id: 'double', type: 'transform', expression: "{ 'doubled': $context.n * 2 }" }],
      output: { doubled: '$double.doubled' },
    });
    workflowId = wf.id;
    browser = await launch();
    page = browser.page;
    await signIn(page, stack);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('shows the MCP tool and URL and the A2A card, and each snippet works as copied', async () => {
    await page.goto(`${stack.url}/workflows/${workflowId}/runs`);
    await page.getByRole('button', { name: 'How to call it' }).click();
    const panel = page.getByRole('region', { name: 'How to call it' });
    await panel.waitFor();
    const tool = await panel.locator('[data-field="mcp-tool"]').innerText();
    const mcpUrl = await panel.locator('[data-field="mcp-url"]').innerText();
    const cardUrl = await panel.locator('[data-field="a2a-card"]').innerText();
    expect(tool).toBe('double-it');
    expect(mcpUrl).toBe(`${stack.url}/mcp`);
    expect(cardUrl).toBe(`${stack.url}/a2a/workflows/${workflowId}/.well-known/agent-card.json`);

    // The copy button puts the snippet on the clipboard.
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.url });
    const vscode = await snippet('MCP: VS Code');
    await page.getByRole('button', { name: 'Copy MCP: VS Code' }).click();
    await page.getByRole('button', { name: 'Copy MCP: VS Code' }).filter({ hasText: 'Copied' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(vscode);
    expect(JSON.parse(vscode).servers.trellis).toMatchObject({ type: 'http', url: mcpUrl });
    expect(JSON.parse(await snippet('MCP: Claude Desktop')).mcpServers.trellis.args).toContain(mcpUrl);

    // The MCP host configuration (URL + bearer header) with the official MCP client.
    const host = JSON.parse(await snippet('MCP: any host with URL and headers')).mcpServers.trellis;
    const mcp = new Client({ name: 'snippet-host', version: '1.0.0' });
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL(host.url), {
        requestInit: { headers: { Authorization: host.headers.Authorization.replace('trls_…', stack.token) } },
      }),
    );
    try {
      expect((await mcp.listTools()).tools.map((t) => t.name)).toContain(tool);
      const call = JSON.parse(await snippet(`MCP: the tools/call request for ${tool}`)).params;
      const result = await mcp.callTool(call);
      expect(result.structuredContent).toEqual({ doubled: 42 });
    } finally {
      await mcp.close();
    }

    // The curl command, run by bash as copied.
    const curl = await snippet('A2A: message/send with curl');
    const answer = JSON.parse(
      (await run('bash', ['-c', curl], { encoding: 'utf8', env: { ...process.env, TRELLIS_TOKEN: stack.token } })).stdout,
    );
    expect(answer.result.status.state).toBe('completed');
    expect(JSON.stringify(answer.result.status.message.parts)).toContain('"doubled":42');

    // The @a2a-js/sdk script, run by node as copied (beside the repository's node_modules).
    const js = await snippet('A2A: a client with @a2a-js/sdk');
    const dir = mkdtempSync(join(ROOT, '.tmp-call-snippet-'));
    try {
      writeFileSync(join(dir, 'call.mjs'), js);
      const { stdout: out } = await run(process.execPath, [join(dir, 'call.mjs')], {
        encoding: 'utf8',
        env: { ...process.env, TRELLIS_TOKEN: stack.token },
        timeout: 60_000,
      });
      expect(out).toContain('TASK_STATE_COMPLETED');
      expect(out).toContain('"doubled": 42');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(browser.errors).toEqual([]);
  });
});
