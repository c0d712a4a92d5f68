/**
 * `trellis validate FILE --server URL`, as a user runs it, against a real server on loopback:
 * the command talks to the server through the typed client (@trellis/client), so the server's
 * own checks (registered tools) are reported, and a refused token or an absent server is a
 * sentence saying what to do (exit 2), never a stack trace.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRELLIS } from '../../cli/test/helpers/bin.ts';
import { startTestServer, type TestServer } from './helpers.ts';

let t: TestServer;
let url: string;
const dir = mkdtempSync(join(tmpdir(), 'trellis-validate-server-'));
const file = join(dir, 'wf.json');

beforeAll(async () => {
  t = await startTestServer();
  await t.server.app.listen({ host: '127.0.0.1', port: 0 });
  const address = t.server.app.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  url = `http://127.0.0.1:${address.port}`;
  // Valid for the compiler; only a server knows that no tool server 'nowhere' is registered.
  writeFileSync(
    file,
    JSON.stringify({ name: 'remote', nodes: [{ id: 'a', type: 'tool_call', tool: 'nowhere/thing', input: {} }], edges: [] }),
  );
});
afterAll(async () => {
  await t.close();
});

function trellis(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...TRELLIS, ...args], { env: { ...process.env, TRELLIS_TOKEN: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('trellis validate --server', () => {
  it("reports the server's problems (a tool it does not have) with exit 1", async () => {
    const local = await trellis('validate', file);
    expect(local.code).toBe(0);
    const r = await trellis('validate', file, '--server', url, '--token', t.tokens.alice, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.valid).toBe(false);
    expect(out.errors.map((e: { code: string }) => e.code)).toContain('TOOL_NOT_FOUND');
  }, 60_000);

  it('says what to do when the token is refused or the server is absent (exit 2)', async () => {
    const refused = await trellis('validate', file, '--server', url, '--token', 'trls_wrong');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/refused the token \(401\); check --token or TRELLIS_TOKEN/);
    const absent = await trellis('validate', file, '--server', 'http://127.0.0.1:1', '--token', 'x');
    expect(absent.code).toBe(2);
    expect(absent.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:1 .*is `trellis serve` running there\?/);
    expect(absent.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);
});
