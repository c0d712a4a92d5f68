import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunRecord } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import { TRELLIS } from './helpers/bin.ts';

const examples = join(import.meta.dirname, '..', '..', '..', 'examples');
const trellis = (args: string[]) => spawnSync(process.execPath, [...TRELLIS, ...args], { encoding: 'utf8', timeout: 60_000 });
const tmp = () => mkdtempSync(join(tmpdir(), 'trellis-cli-run-'));

// Every test spawns the command from source through tsx: 5–15 s a process on a busy 2-core machine.
describe('trellis run', { timeout: 120_000 }, () => {
  it('runs a definition and prints its output; --json prints the run record', () => {
    const r = trellis(['run', join(examples, 'linear-pipeline.json'), '--input', '{"text":"  Hello World "}']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ summary: 'hello world (2 words)', words: 2 });
    expect(r.stderr).toMatch(/✓ score\s+succeeded\s+attempt 1/);
    const j = trellis(['run', join(examples, 'linear-pipeline.json'), '--input', '{"text":"a b c"}', '--json', '--quiet']);
    expect(j.status).toBe(0);
    const rec = JSON.parse(j.stdout) as RunRecord;
    expect(rec.status).toBe('succeeded');
    expect(Object.keys(rec.nodes).sort()).toEqual(['format', 'normalise', 'score']);
    expect(rec.nodes.score!.attempts).toHaveLength(1);
    expect(j.stderr).toBe('');
  });

  it('exits 2 for an invalid definition, invalid input JSON, or input that violates inputSchema', () => {
    const bad = trellis(['run', join(examples, 'invalid', 'CYCLE.json')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/CYCLE/);
    const notJson = trellis(['run', join(examples, 'linear-pipeline.json'), '--input', '{text:']);
    expect(notJson.status).toBe(2);
    expect(notJson.stderr).toMatch(/--input is not valid JSON/);
    const schema = trellis(['run', join(examples, 'linear-pipeline.json'), '--input', '{"text": 5}']);
    expect(schema.status).toBe(2);
    expect(schema.stderr).toMatch(/input.text must be string/);
    expect(trellis(['run']).status).toBe(2);
    expect(trellis(['run', '--help']).stdout).toMatch(/Usage: trellis run FILE/);
  }, 120_000); // five processes, each loading the sources through tsx

  it('exits 1 for a failed run and keeps the run in --db', () => {
    const dir = tmp();
    const def = join(dir, 'fail.json');
    writeFileSync(def, JSON.stringify({ name: 'fails', nodes: [{ id: 'x', type: 'transform', expression: '$error("nope")' }] }));
    const r = trellis(['run', def, '--db', join(dir, 'keep.db'), '--json', '--quiet']);
    expect(r.status).toBe(1);
    const rec = JSON.parse(r.stdout) as RunRecord;
    expect(rec.status).toBe('failed');
    expect(rec.nodes.x!.error?.code).toBe('EXPRESSION_ERROR');
  });

  it('refuses a --db file that is not a database, leaving it untouched', () => {
    const dir = tmp();
    const file = join(dir, 'notes.txt');
    writeFileSync(file, 'precious');
    const r = trellis(['run', join(examples, 'linear-pipeline.json'), '--input', '{"text":"x"}', '--db', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/is not a SQLite database/);
  });

  it('Ctrl-C cancels the run cleanly and the record says cancelled', async () => {
    // A loopback server that never answers: the http.request node hangs until cancelled.
    const server = createServer(() => {});
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const dir = tmp();
    const def = join(dir, 'hang.json');
    writeFileSync(
      def,
      JSON.stringify({
        name: 'hang',
        nodes: [
          {
            id: 'call',
            type: 'tool_call',
            tool: 'http.request',
            input: { url: `http://127.0.0.1:${port}/slow`, timeoutMs: 60000 },
          },
        ],
      }),
    );
    const child = spawn(process.execPath, [...TRELLIS, 'run', def, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    const started = new Promise<void>((resolve) =>
      child.stderr.on('data', (d) => {
        err += d;
        if (/▶ call/.test(err)) resolve();
      }),
    );
    await started;
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    server.close();
    expect(code).toBe(1);
    const rec = JSON.parse(out) as RunRecord;
    expect(rec.status).toBe('cancelled');
    expect(rec.nodes.call!.status).toBe('cancelled');
  });
});

describe('trellis run --retry', () => {
  it('retries a failed run from --db: what succeeded is reused; a fixed FILE becomes the new version', () => {
    const dir = tmp();
    const db = join(dir, 'keep.db');
    const steps = (last: string) => ({
      name: 'three-steps',
      nodes: [
        { id: 'fetch', type: 'transform', expression: "{ 'items': [1, 2, 3] }" },
        { id: 'total', type: 'transform', expression: '$sum($fetch.items)' },
        { id: 'report', type: 'transform', expression: last },
      ],
      edges: [
        { from: 'fetch', to: 'total' },
        { from: 'total', to: 'report' },
      ],
    });
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, JSON.stringify(steps('$error("the report template is broken")')));
    const first = trellis(['run', broken, '--db', db, '--json', '--quiet']);
    expect(first.status).toBe(1);
    const failed = JSON.parse(first.stdout) as RunRecord;

    // Same version: the failing step fails again, but nothing before it runs again.
    const same = trellis(['run', '--retry', failed.id, '--db', db, '--json']);
    expect(same.status).toBe(1);
    const sameRec = JSON.parse(same.stdout) as RunRecord;
    expect(sameRec.retryOf).toBe(failed.id);
    expect(sameRec.nodes.fetch!.reusedFrom).toBe(failed.id);
    expect(sameRec.nodes.total!.reusedFrom).toBe(failed.id);
    expect(same.stderr).toMatch(/retry of run .*: 2 nodes reused/);
    expect(same.stderr).toMatch(/⤷ fetch\s+reused from run/);

    // The fix, as a new version: unchanged nodes are still reused.
    const fixed = join(dir, 'fixed.json');
    writeFileSync(fixed, JSON.stringify(steps("'total: ' & $string($total)")));
    const ok = trellis(['run', '--retry', failed.id, '--db', db, fixed, '--json', '--quiet']);
    expect(ok.status, ok.stderr).toBe(0);
    const okRec = JSON.parse(ok.stdout) as RunRecord;
    expect(okRec).toMatchObject({ status: 'succeeded', version: 2, retryOf: failed.id, output: { report: 'total: 6' } });
    expect(okRec.nodes.total!.reusedFrom).toBe(failed.id);
    expect(okRec.nodes.report!.notReused).toMatch(/failed in run/);

    // Clear refusals.
    const nothing = trellis(['run', '--retry', okRec.id, '--db', db, '--from', 'nope']);
    expect(nothing.status).toBe(2);
    expect(nothing.stderr).toMatch(/'from' names 'nope'/);
    const noDb = trellis(['run', '--retry', failed.id]);
    expect(noDb.status).toBe(2);
    expect(noDb.stderr).toMatch(/--retry needs --db PATH/);
  }, 120_000);
});
