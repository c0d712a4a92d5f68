/** `trellis validate` and `trellis schema`, run as a user runs them: the real bin, in a child process. */
import { execFile } from 'node:child_process';
import { mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { TRELLIS } from './helpers/bin.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'trellis-validate-'));

function trellis(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...TRELLIS, ...args], { cwd: root, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 99) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

afterAll(async () => {
  const { rmSync } = await import('node:fs');
  rmSync(tmp, { recursive: true, force: true });
});

describe('trellis validate', () => {
  it('exits 0 on a valid definition and describes it', async () => {
    const r = await trellis('validate', 'examples/hotel-search.json');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('✓ examples/hotel-search.json: valid — 6 nodes, 6 edges, 5 levels');
    expect(r.stdout).toContain('critical path: search_hotels → has_results → filter_price → approve → done');
  });

  it('accepts YAML', async () => {
    const r = await trellis('validate', 'examples/fan-out-join.yaml');
    expect(r.code).toBe(0);
  });

  it('exits 1 and names the node, the path and what to fix', async () => {
    const r = await trellis('validate', 'examples/invalid/BINDING_NOT_UPSTREAM.json');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      '✗ nodes/1/input/approved_by (filter_price, approve): BINDING_NOT_UPSTREAM — $approve is not upstream of filter_price; add an edge approve → filter_price or reference an upstream node',
    );
    expect(r.stderr).toBe('');
  });

  it('--json prints { valid, errors }', async () => {
    const bad = await trellis('validate', 'examples/invalid/INVALID_EDGE.json', '--json');
    expect(bad.code).toBe(1);
    const doc = JSON.parse(bad.stdout);
    expect(doc.valid).toBe(false);
    expect(doc.errors.map((e: { code: string }) => e.code)).toEqual(['INVALID_EDGE', 'INVALID_EDGE']);
    const good = await trellis('validate', '--json', 'examples/linear-pipeline.json');
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout)).toEqual({ valid: true, errors: [], warnings: [] });
  });

  it('exits 2 on usage and I/O errors, with a message and no stack trace', async () => {
    const none = await trellis('validate');
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('missing FILE');
    const missing = await trellis('validate', join(tmp, 'nope.json'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no such file/);
    const big = join(tmp, 'big.json');
    writeFileSync(big, '');
    truncateSync(big, 50 * 1024 * 1024);
    const tooBig = await trellis('validate', big, '--json');
    expect(tooBig.code).toBe(2);
    expect(JSON.parse(tooBig.stdout).error).toMatchObject({ code: 'FILE_TOO_LARGE' });
    const unknown = await trellis('validate', '--frobnicate', 'x.json');
    expect(unknown.code).toBe(2);
    for (const r of [none, missing, unknown]) expect(r.stderr).not.toMatch(/\.ts:\d+|\n\s+at /);
  });

  it('an empty file or one that is neither JSON nor YAML is invalid (exit 1)', async () => {
    const empty = join(tmp, 'empty.json');
    writeFileSync(empty, '');
    const e = await trellis('validate', empty);
    expect(e.code).toBe(1);
    expect(e.stdout).toMatch(/is empty/);
    const garbage = join(tmp, 'garbage.txt');
    writeFileSync(garbage, '{ "name": [1, 2\n  - : : {');
    const g = await trellis('validate', garbage);
    expect(g.code).toBe(1);
    expect(g.stdout).toMatch(/neither JSON nor YAML/);
  });

  it('--help documents the command', async () => {
    const r = await trellis('validate', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: trellis validate FILE [--json]');
    const top = await trellis('--help');
    expect(top.stdout).toMatch(/validate\s+check a workflow definition/);
  });
});

describe('trellis schema', () => {
  it('prints the JSON Schema of a definition', async () => {
    const r = await trellis('schema');
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout);
    expect(schema.$id).toBe('https://trellis.dev/schema/workflow.json');
    expect(schema.properties.nodes.type).toBe('array');
    expect(schema.required).toEqual(expect.arrayContaining(['name', 'nodes']));
  });
});
