/**
 * Importing the runtime and the store loads no dependency a process may never use: the
 * PostgreSQL driver, the outbound HTTP client, the JSON Schema validator and OpenTelemetry come
 * in with their first use (each holds megabytes a SQLite server running built-in nodes does not
 * need). Checked in a fresh process; then each is loaded by the use that needs it.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const LAZY = ['pg', 'undici', 'ajv', '@opentelemetry/api', '@opentelemetry/sdk-trace', '@opentelemetry/exporter-trace-otlp-http'];

const script = `
import { createRequire } from 'node:module';
const loaded = () => {
  const names = new Set();
  for (const f of Object.keys(createRequire(import.meta.url).cache)) {
    const m = f.match(/node_modules\\/((@[^/]+\\/)?[^/]+)\\//);
    if (m) names.add(m[1]);
  }
  return [...names];
};
const runtime = await import('@trellis/runtime');
const store = await import('@trellis/store');
const out = { atImport: loaded() };
// Each dependency arrives with the use that needs it.
const guard = runtime.createOutboundGuard({ allowHosts: ['127.0.0.1'] });
out.afterGuard = loaded();
await guard.fetch('http://127.0.0.1:1/').catch(() => {});
out.afterFetch = loaded();
await guard.close();
const { prepareWorkflow } = await import('@trellis/runtime/internal');
prepareWorkflow('k', { name: 'w', inputSchema: { type: 'object' }, nodes: [{ id: 'a', type: 'transform', expression: '1' }], edges: [] });
out.afterSchema = loaded();
new runtime.RunTracer({ spanProcessors: [] });
out.afterTracer = loaded();
console.log(JSON.stringify(out));
`;

describe('lazy dependencies', () => {
  it('importing @trellis/runtime and @trellis/store loads none of pg, undici, ajv, OpenTelemetry', () => {
    const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: import.meta.dirname,
      encoding: 'utf8',
      env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: '' },
    });
    expect(res.stderr).toBe('');
    const out = JSON.parse(res.stdout.trim().split('\n').pop()!) as Record<string, string[]>;
    for (const name of LAZY) expect(out.atImport).not.toContain(name);
    expect(out.atImport).toContain('better-sqlite3');
    expect(out.afterGuard).not.toContain('undici');
    expect(out.afterFetch).toContain('undici');
    expect(out.afterSchema).toContain('ajv');
    expect(out.afterTracer).toEqual(expect.arrayContaining(['@opentelemetry/api', '@opentelemetry/sdk-trace']));
    expect(out.afterTracer).not.toContain('pg');
  });
});
