/**
 * The builder by keyboard, in headless Chromium against the real server and engine (#21):
 * a branching workflow (input → condition with true/false ports → two nodes) built without the
 * mouse, saved with Ctrl+S, a field edit undone in one step, a node copied, pasted and
 * duplicated, Delete moving the focus to the next node, the `?` overlay; then the saved
 * workflow runs through the engine down the port the condition chose. Also: the warnings for a
 * condition edge without a condition and for `tru`, the unsaved-changes guard, templates named
 * uniquely, and dark mode from the system preference.
 */
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, chromiumAvailable, launch, signIn } from './helpers/browser.ts';
import { buildConsole, type Stack, startStack } from './helpers/stack.ts';

let stack: Stack;
let browser: Browser;
let page: Page;

const node = (id: string) => page.locator(`.react-flow__node[data-id="${id}"]`);

/** Focuses an element (as Tab would) and presses keys: no mouse anywhere. */
async function focusAndPress(locator: ReturnType<Page['locator']>, ...keys: string[]) {
  await locator.focus();
  for (const k of keys) await page.keyboard.press(k);
}

/** Replaces a text field's content by typing (select all, then type). */
async function typeInto(label: string, text: string) {
  // Not exact: a field's label also holds the checks shown under it.
  const field = page.getByLabel(label).first();
  await field.focus();
  await page.keyboard.press('Control+a');
  await page.keyboard.press('Backspace');
  if (text) await page.keyboard.type(text);
}

/** Selects a node with the keyboard: focus it, press Enter. */
async function selectNode(id: string) {
  await focusAndPress(node(id), 'Enter');
  await page.getByRole('form', { name: `Node ${id}` }).waitFor();
}

/** The inspector's "Connect to…": type the target's id into the select, choose a port, press Connect. */
async function connectTo(target: string, port?: 'when true' | 'when false') {
  await page.getByLabel('Connect to', { exact: true }).focus();
  await page.keyboard.type(target);
  if (port) {
    await page.getByLabel('From port').focus();
    await page.keyboard.type(port);
  }
  await focusAndPress(page.getByRole('button', { name: 'Connect', exact: true }), 'Enter');
  await page
    .getByRole('status')
    .filter({ hasText: `Connected to ${target}` })
    .waitFor();
}

async function boxes(ids: string[]) {
  return Promise.all(ids.map(async (id) => ({ id, box: (await node(id).boundingBox())! })));
}

describe.skipIf(!chromiumAvailable)('the builder by keyboard (Chromium)', () => {
  beforeAll(async () => {
    const dist = await buildConsole();
    stack = await startStack(dist);
    browser = await launch({ width: 1440, height: 900 });
    page = browser.page;
    // A step that cannot happen fails with its locator, well inside the test's time.
    page.setDefaultTimeout(10_000);
    await signIn(page, stack);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('builds a branching workflow by keyboard only, saves with Ctrl+S, undoes a field edit, copies and pastes a node', async () => {
    await page.goto(`${stack.url}/workflows/new`);
    await page.getByRole('toolbar', { name: 'Builder' }).waitFor();
    // A new workflow is an empty state in words, not a raw schema error.
    await page.getByText('An empty workflow').waitFor();
    expect(await page.locator('[data-field="validity"]').textContent()).toBe('Empty');
    expect(await page.getByText('Too small').count()).toBe(0);

    await typeInto('Workflow name', 'kbd-branching');

    // The input step: palette search, Enter adds the first match.
    await page.getByLabel('Search nodes, skills and tools').focus();
    await page.keyboard.type('transform');
    await page.keyboard.press('Enter');
    await node('transform_1').waitFor();
    await typeInto('Expression (JSONata)', '$context.n');

    // The condition: Tab to its palette button, Enter.
    await typeInto('Search nodes, skills and tools', '');
    await focusAndPress(page.getByRole('button', { name: 'Add condition', exact: true }), 'Enter');
    await node('condition_1').waitFor();
    await typeInto('Expression (JSONata)', '$transform_1 > 3');

    // Two branch targets.
    for (const [id, expr] of [
      ['transform_2', "'big'"],
      ['transform_3', "'small'"],
    ] as const) {
      await focusAndPress(page.getByRole('button', { name: 'Add transform', exact: true }), 'Enter');
      await node(id).waitFor();
      await typeInto('Expression (JSONata)', expr);
    }

    // Nodes added by keyboard never land on each other.
    const placed = await boxes(['transform_1', 'condition_1', 'transform_2', 'transform_3']);
    for (const a of placed)
      for (const b of placed) {
        if (a.id >= b.id) continue;
        const apart =
          a.box.x + a.box.width <= b.box.x ||
          b.box.x + b.box.width <= a.box.x ||
          a.box.y + a.box.height <= b.box.y ||
          b.box.y + b.box.height <= a.box.y;
        expect(apart, `${a.id} and ${b.id} overlap`).toBe(true);
      }

    // Connect by keyboard: input → condition; condition's true port → big, false port → small.
    await selectNode('transform_1');
    await connectTo('condition_1');
    await selectNode('condition_1');
    await connectTo('transform_2', 'when true');
    await connectTo('transform_3', 'when false');
    await expect.poll(() => page.locator('.react-flow__edge').count()).toBe(3);
    expect(await page.locator('.react-flow__edge').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')))).toEqual([
      'Edge transform_1 to condition_1',
      'Edge condition_1 to transform_2 when $condition_1.value = true',
      'Edge condition_1 to transform_3 when $condition_1.value = false',
    ]);
    // Drawn from the ports, with arrowheads.
    expect(await page.locator('.react-flow__edge-path[marker-end]').count()).toBe(3);
    await page.locator('[data-field="validity"]', { hasText: /^Valid$/ }).waitFor();

    // Ctrl+S saves (from inside a text field too).
    await page.getByLabel('Expression (JSONata)').focus();
    await page.keyboard.press('Control+s');
    await page.waitForURL(/\/workflows\/[^/]+$/);
    await page.getByText('v1', { exact: true }).waitFor();
    const workflowId = decodeURIComponent(page.url().split('/').pop()!);

    // Undo a field edit: typing "'huge'" is one step, not six.
    await selectNode('transform_2');
    await typeInto('Expression (JSONata)', "'huge'");
    await focusAndPress(node('transform_2')); // leaving the field ends the step
    await page.keyboard.press('Control+z');
    await expect.poll(() => page.getByLabel('Expression (JSONata)').inputValue()).toBe("'big'");
    await page.keyboard.press('Control+Shift+z');
    await expect.poll(() => page.getByLabel('Expression (JSONata)').inputValue()).toBe("'huge'");
    await page.keyboard.press('Control+z');
    await expect.poll(() => page.getByLabel('Expression (JSONata)').inputValue()).toBe("'big'");

    // Arrow keys move the selected node; the moves are one undo step.
    const before = (await node('transform_2').boundingBox())!;
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowDown');
    await expect.poll(async () => (await node('transform_2').boundingBox())!.y).toBeGreaterThan(before.y + 5);
    await page.keyboard.press('Control+z');
    await expect.poll(async () => Math.round((await node('transform_2').boundingBox())!.y)).toBe(Math.round(before.y));
    expect(await page.getByLabel('Expression (JSONata)').inputValue()).toBe("'big'");

    // Copy and paste the selected node; duplicate it with Ctrl+D. Fresh ids, placed apart.
    await focusAndPress(node('transform_2'), 'Control+c');
    await page.keyboard.press('Control+v');
    await node('transform_4').waitFor();
    await page.getByRole('form', { name: 'Node transform_4' }).waitFor();
    expect(await page.getByLabel('Expression (JSONata)').inputValue()).toBe("'big'");
    await page.keyboard.press('Control+d');
    await node('transform_5').waitFor();
    const [a, b] = await boxes(['transform_2', 'transform_4']);
    expect(Math.abs(a!.box.x - b!.box.x) + Math.abs(a!.box.y - b!.box.y)).toBeGreaterThan(20);

    // Delete the duplicate: the focus moves to a node (not the page body), with a visible ring.
    await selectNode('transform_5');
    await page.keyboard.press('Delete');
    await expect.poll(() => node('transform_5').count()).toBe(0);
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.closest('.react-flow__node')?.getAttribute('data-id') ?? null))
      .not.toBeNull();
    const ring = await page.evaluate(() => {
      const el = document.activeElement?.querySelector('.tnode');
      return el ? getComputedStyle(el).outlineStyle : 'none';
    });
    expect(ring).toBe('solid');
    await selectNode('transform_4');
    await page.keyboard.press('Delete');
    await expect.poll(() => node('transform_4').count()).toBe(0);

    // The `?` overlay lists the shortcuts; Escape closes it.
    await page.keyboard.press('?');
    const overlay = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await overlay.waitFor();
    expect(await overlay.textContent()).toContain('Ctrl+D');
    await page.keyboard.press('Escape');
    await expect.poll(() => overlay.count()).toBe(0);

    // Saved again (nothing left unsaved), it runs through the real engine down the port the condition chose.
    await page.keyboard.press('Control+s');
    await page.getByRole('status').filter({ hasText: 'Saved as version 2.' }).waitFor();
    const run = await stack.api<{ id: string }>('POST', `/workflows/${workflowId}/run`, { input: { n: 5 } });
    await expect
      .poll(async () => (await stack.api<{ status: string }>('GET', `/workflow_runs/${run.id}`)).status, { timeout: 20_000 })
      .toBe('succeeded');
    const rec = await stack.api<{ nodes: Record<string, { status: string; output?: unknown }> }>(
      'GET',
      `/workflow_runs/${run.id}`,
    );
    expect(rec.nodes.transform_2).toMatchObject({ status: 'succeeded', output: 'big' });
    expect(rec.nodes.transform_3?.status).toBe('skipped');
    expect(browser.errors).toEqual([]);
  }, 90_000);

  it('marks a condition edge without a condition and flags `tru`; the warning goes when fixed', async () => {
    const wf = await stack.api<{ id: string }>('POST', '/workflows', {
      name: 'e2e-warnings',
      nodes: [
        { id: 'check', type: 'condition', expression: '$context.n > 1' },
        { id: 'yes', type: 'transform', expression: '1' },
      ],
      edges: [{ from: 'check', to: 'yes' }],
    });
    await page.goto(`${stack.url}/workflows/${wf.id}`);
    const edge = page.locator('.react-flow__edge.edge-warning');
    await edge.waitFor();
    // Still valid: a warning, not an error.
    await page.locator('[data-field="validity"]', { hasText: /^Valid$/ }).waitFor();
    await page.getByRole('list', { name: 'Warnings' }).getByText('CONDITION_EDGE_WITHOUT_CONDITION').waitFor();
    await focusAndPress(edge, 'Enter');
    await page.getByRole('list', { name: 'Warnings of this edge' }).waitFor();
    const cond = page.getByLabel('Condition (JSONata; empty: always taken)');
    await cond.fill('$check.value = tru');
    await page.getByText(/'tru' is not a value or a variable.*did you mean true\?/).waitFor();
    expect(await page.getByText('Syntax OK').count()).toBe(0);
    expect(await page.locator('.marked-source mark').textContent()).toBe('tru');
    // A parse error: its position once, marked in the text.
    await cond.fill('$check.value = ');
    const err = page.locator('.expr-check.field-error');
    await err.waitFor();
    expect((await err.textContent())?.match(/at character/g)).toHaveLength(1);
    await page.getByLabel('Branch of check').selectOption('true');
    await expect.poll(() => cond.inputValue()).toBe('$check.value = true');
    await expect.poll(() => page.locator('.react-flow__edge.edge-warning').count()).toBe(0);
    await page.getByText('Syntax OK').waitFor();
  });

  it('counts invalid Output JSON as a problem, and the save banner follows the fixes', async () => {
    const wf = await stack.api<{ id: string }>('POST', '/workflows', {
      name: 'e2e-banner',
      nodes: [{ id: 'only', type: 'transform', expression: '1' }],
      edges: [],
    });
    await page.goto(`${stack.url}/workflows/${wf.id}`);
    await page.locator('[data-field="validity"]', { hasText: /^Valid$/ }).waitFor();
    const output = page.getByLabel('Output bindings');
    await output.fill('{ "x": ');
    await page.locator('[data-field="validity"]', { hasText: '1 problem' }).waitFor();
    await page.getByRole('button', { name: 'Save new version' }).click();
    const banner = page.getByRole('alert').filter({ hasText: 'Fix the 1 problem' });
    await banner.waitFor();
    await output.fill('{ "x": "$only" }');
    await expect.poll(() => banner.count()).toBe(0);
    await page.locator('[data-field="validity"]', { hasText: /^Valid$/ }).waitFor();
    await page.keyboard.press('Control+s');
    await page.getByRole('status').filter({ hasText: 'Saved as version 2.' }).waitFor();

    // Auto-layout is not an edit that blocks Run (positions are layout hints).
    await page.getByRole('button', { name: 'Auto-layout' }).click();
    expect(await page.getByRole('button', { name: 'Run', exact: true }).isEnabled()).toBe(true);

    // Leaving with unsaved changes asks; dismissing stays, accepting leaves.
    await page.getByLabel('Workflow name').fill('e2e-banner-renamed');
    expect(await page.getByRole('button', { name: 'Run', exact: true }).isEnabled()).toBe(false);
    page.once('dialog', (d) => void d.dismiss());
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Templates' }).click();
    await page.waitForTimeout(200);
    expect(page.url()).toContain(`/workflows/${wf.id}`);
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Templates' }).click();
    await page.waitForURL(/\/templates$/);
  });

  it('previews a template and names the new workflow uniquely on each use', async () => {
    const source = await stack.api<{ id: string }>('POST', '/workflows', {
      name: 'e2e-template-base',
      nodes: [
        { id: 'ask', type: 'transform', expression: '1' },
        { id: 'answer', type: 'transform', expression: '$ask + 1' },
      ],
      edges: [{ from: 'ask', to: 'answer' }],
    });
    await stack.api('POST', '/templates', { workflowId: source.id, name: 'kbd-template', description: 'two steps' });
    await page.goto(`${stack.url}/templates`);
    const use = page.getByRole('button', { name: 'Use template kbd-template', exact: true });
    await use.waitFor();
    const label = (await use.getAttribute('aria-label'))!.replace('Use template ', '');
    expect(await page.locator('svg.template-preview').count()).toBeGreaterThan(0);
    const names: string[] = [];
    for (let i = 0; i < 2; i++) {
      await page.goto(`${stack.url}/templates`);
      await page.getByRole('button', { name: `Use template ${label}`, exact: true }).click();
      const dialog = page.getByRole('dialog', { name: `Use template ${label}` });
      await dialog.locator('svg.template-preview').waitFor();
      const name = dialog.getByLabel('Name of the new workflow');
      await expect.poll(() => name.inputValue()).toBe(i === 0 ? label : `${label}-2`);
      names.push(await name.inputValue());
      await dialog.getByRole('button', { name: 'Create workflow' }).click();
      await page.waitForURL(/\/workflows\/[^/]+$/);
      await expect.poll(() => page.getByLabel('Workflow name').inputValue()).toBe(names[i]);
    }
    expect(new Set(names).size).toBe(2);
  });

  it('lays out the builder at 820 px: one toolbar row, Run and Save in view, Versions below them, Escape closes it', async () => {
    const wf = await stack.api<{ id: string }>('POST', '/workflows', {
      name: 'e2e-narrow',
      nodes: [
        { id: 'a', type: 'transform', expression: '1' },
        { id: 'b', type: 'transform', expression: '$a' },
      ],
      edges: [{ from: 'a', to: 'b' }],
    });
    await page.setViewportSize({ width: 820, height: 900 });
    try {
      await page.goto(`${stack.url}/workflows/${wf.id}`);
      const toolbar = page.getByRole('toolbar', { name: 'Builder' });
      const bar = (await toolbar.boundingBox())!;
      expect(bar.height).toBeLessThan(60);
      for (const name of [/^Save/, /^Run$/, /^Versions$/]) {
        const box = (await toolbar.getByRole('button', { name }).boundingBox())!;
        expect(box.x + box.width, String(name)).toBeLessThanOrEqual(820);
      }
      expect(await page.locator('.react-flow__minimap').isVisible()).toBe(false);
      await toolbar.getByRole('button', { name: 'Versions' }).click();
      const dialog = page.getByRole('dialog', { name: 'Versions' });
      const box = (await dialog.boundingBox())!;
      expect(box.y).toBeGreaterThanOrEqual(bar.y + bar.height);
      await page.keyboard.press('Escape');
      await expect.poll(() => dialog.count()).toBe(0);
    } finally {
      await page.setViewportSize({ width: 1440, height: 900 });
    }
  });

  it('draws the demo\'s taken "none" branch round the skipped nodes, with labels off the nodes', async () => {
    const demo = JSON.parse(readFileSync(new URL('../../../examples/demo/hotel-trip.json', import.meta.url), 'utf8')) as {
      nodes: { id: string; type: string }[];
    };
    // The demo's graph; the search finds nothing (so the "none" branch runs), the rest never runs.
    const nodes = demo.nodes.map((n) =>
      n.id === 'search'
        ? { id: 'search', type: 'transform', expression: "{ 'hotels': [] }" }
        : n.type === 'agent_call'
          ? { ...n, agent: { url: 'https://agent.example.com' } }
          : n.type === 'tool_call'
            ? { ...n, tool: 'http.request', input: { url: 'https://api.example.com/x' } }
            : n,
    );
    const wf = await stack.api<{ id: string }>('POST', '/workflows', { ...demo, name: 'e2e-none-branch', nodes });
    const run = await stack.api<{ id: string }>('POST', `/workflows/${wf.id}/run`, { input: { city: 'Nowhere' } });
    await expect
      .poll(async () => (await stack.api<{ status: string }>('GET', `/workflow_runs/${run.id}`)).status, { timeout: 20_000 })
      .toBe('succeeded');
    await page.goto(`${stack.url}/runs/${run.id}`);
    await expect.poll(() => page.locator('.react-flow__edge.edge-taken').count()).toBe(3);
    await page.waitForTimeout(300);
    const crossings = await page.evaluate(() => {
      const rects = [...document.querySelectorAll<HTMLElement>('.react-flow__node')].map((el) => ({
        id: el.getAttribute('data-id'),
        r: el.getBoundingClientRect(),
      }));
      const inside = (x: number, y: number, r: DOMRect) => x > r.left + 2 && x < r.right - 2 && y > r.top + 2 && y < r.bottom - 2;
      const out: string[] = [];
      for (const edge of document.querySelectorAll('.react-flow__edge.edge-taken, .react-flow__edge.edge-not-taken')) {
        const [from, to] = (edge.getAttribute('aria-label') ?? '').replace(/^Edge /, '').split(/ to | when /);
        const path = edge.querySelector<SVGPathElement>('path.react-flow__edge-path')!;
        const m = path.getScreenCTM()!;
        const len = path.getTotalLength();
        for (let i = 1; i < 40; i++) {
          const p = path.getPointAtLength((len * i) / 40).matrixTransform(m);
          for (const { id, r } of rects)
            if (id !== from && id !== to && inside(p.x, p.y, r)) out.push(`${from}→${to} crosses ${id}`);
        }
        const label = edge.querySelector('.react-flow__edge-textwrapper');
        if (label) {
          const lr = label.getBoundingClientRect();
          const cx = lr.left + lr.width / 2;
          const cy = lr.top + lr.height / 2;
          for (const { id, r } of rects) if (inside(cx, cy, r)) out.push(`label of ${from}→${to} on ${id}`);
        }
      }
      return [...new Set(out)];
    });
    expect(crossings).toEqual([]);
  });

  it('follows the system dark mode, and the toggle overrides it', async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(`${stack.url}/workflows/new`);
    await page.getByRole('toolbar', { name: 'Builder' }).waitFor();
    const bg = () => page.evaluate(() => getComputedStyle(document.querySelector('.palette')!).backgroundColor);
    const luminance = (rgb: string) => {
      const [r, g, b] = rgb.match(/\d+/g)!.map(Number);
      return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
    };
    expect(luminance(await bg())).toBeLessThan(80);
    await page.getByRole('button', { name: /^Theme: system/ }).click(); // → dark
    await page.getByRole('button', { name: /^Theme: dark/ }).click(); // → light
    expect(luminance(await bg())).toBeGreaterThan(200);
    await page.getByRole('button', { name: /^Theme: light/ }).click(); // → system
    await page.emulateMedia({ colorScheme: 'light' });
  });
});
