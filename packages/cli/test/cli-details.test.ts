/** The small things a first user meets at the terminal, each kept fixed. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDefinitionText, type RunRecord } from '@trellis/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../src/main.ts';
import { Progress } from '../src/progress.ts';

afterEach(() => vi.restoreAllMocks());

describe('progress on a terminal', () => {
  it('leaves no status line behind once the run has finished, so the output starts on a line of its own', async () => {
    let written = '';
    const tty = {
      isTTY: true,
      write: (s: string) => {
        written += s;
        return true;
      },
    } as unknown as NodeJS.WriteStream;
    const env = process.env.NO_COLOR;
    delete process.env.NO_COLOR;
    try {
      const p = new Progress(tty, { quiet: false, nodes: 3 });
      p.start('run-1', undefined);
      await new Promise((r) => setTimeout(r, 250)); // the status ticker draws
      expect(written).toMatch(/0\/3 done/);
      p.finish({ status: 'succeeded', costUsd: 0 } as RunRecord);
      await new Promise((r) => setTimeout(r, 250));
    } finally {
      if (env !== undefined) process.env.NO_COLOR = env;
    }
    // What the terminal shows last: the summary line, ended, and nothing after it.
    const lastClear = written.lastIndexOf('\u001b[2K');
    expect(written.endsWith('\n')).toBe(true);
    expect(written.slice(lastClear + 4)).toMatch(/^succeeded in [\d.]+s · 0\/3 nodes resolved\n$/);
  });
});

describe('definition parse errors', () => {
  it('JSON: line and column on every Node version, on one line', () => {
    const cases: [string, RegExp][] = [
      ['{\n  "name": "x",\n  "nodes": \n}', /at line 4, column 1: expected a value/],
      ['{"name": "x",}', /at line 1, column 14: a trailing comma/],
      ['{\n"name" "x"}', /at line 2, column 8: expected ':'/],
      ['{"name": "a\nb"}', /at line 1, column 12: a string cannot contain a raw line break/],
      ['[1, 2', /at line 1, column 6: expected ',' or '\]'/],
    ];
    for (const [text, want] of cases) {
      const r = parseDefinitionText(text, 'wf.json');
      expect(r.ok).toBe(false);
      const message = (r as { message: string }).message;
      expect(message).toMatch(want);
      expect(message).not.toMatch(/\n/);
    }
  });

  it('YAML: the message is complete — position and what the line reads, no dangling colon', () => {
    const r = parseDefinitionText('name: x\nnodes:\n  - id: a\n    type: [\n', 'wf.yaml') as { ok: false; message: string };
    expect(r.message).toMatch(/at line \d+, column \d+/);
    expect(r.message).not.toMatch(/:\s*$/);
    expect(r.message).not.toMatch(/\n/);
    const r2 = parseDefinitionText('a: b\n  c: d\n', 'wf.yaml') as { ok: false; message: string };
    expect(r2.message).toMatch(/at line 1, column 4 \(the line reads: a: b\)$/);
  });
});

describe('trellis token create', () => {
  it('without --name says that --name is missing; a bad name is named', async () => {
    let err = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
      err += String(s);
      return true;
    });
    const db = join(mkdtempSync(join(tmpdir(), 'trellis-tok-')), 't.db');
    expect(await main(['token', 'create', '--db', db])).toBe(2);
    expect(err).toMatch(/^trellis token create: --name is missing/);
    err = '';
    expect(await main(['token', 'create', '--name', 'a b', '--db', db])).toBe(2);
    expect(err).toMatch(/--name 'a b' is not a user name/);
  });
});

describe('trellis run applies inputSchema defaults (the engine does, for every way a run starts)', () => {
  it('a run without --input gets the defaults; a given value wins', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trellis-defaults-'));
    const file = join(dir, 'defaults.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'defaults',
        inputSchema: {
          type: 'object',
          properties: { delayMs: { type: 'number', default: 8000 }, city: { type: 'string', default: 'Lisbon' } },
        },
        nodes: [{ id: 'echo', type: 'transform', expression: '$context' }],
      }),
    );
    const runIt = async (...extra: string[]) => {
      let out = '';
      vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
        out += String(s);
        return true;
      });
      vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
      const code = await main(['run', file, '-q', ...extra]);
      vi.restoreAllMocks();
      return { code, output: JSON.parse(out) };
    };
    expect(await runIt()).toEqual({ code: 0, output: { echo: { delayMs: 8000, city: 'Lisbon' } } });
    expect(await runIt('--input', '{"city":"Porto"}')).toEqual({ code: 0, output: { echo: { delayMs: 8000, city: 'Porto' } } });
  });
});
