/**
 * `/metrics` per-workflow series, scraped: runs by workflow and status and the cost of each
 * workflow's runs, with the label cardinality capped (the 50 workflows with the most runs by id,
 * the rest summed as workflow="other"); the claim latency histogram; node attempt durations by
 * node type (a closed set of label values) after real runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { branchingWorkflow, json, startTestServer, type TestServer } from './helpers.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.close();
});

describe('per-workflow metrics', () => {
  it('labels the busiest 50 workflows, sums the rest as other, and counts cost and claim latency', async () => {
    const wf = json(await t.request('POST', '/api/v1/workflows', { body: branchingWorkflow('metered') })).id as string;
    const { id } = json(await t.request('POST', `/api/v1/workflows/${wf}/run`, { body: { input: { n: 1 } } }));
    await t.engine.waitForRun(id);
    // 60 more workflows: wf_m00…wf_m59, workflow i with i + 2 runs costing $0.5 each (so the
    // 50 busiest are wf_m10…wf_m59; wf_m00…wf_m09 and `metered`, with fewer runs, are "other").
    const now = new Date().toISOString();
    const raw = t.handle.raw;
    const insWf = raw.prepare(
      "insert into workflows (id, name, description, owner, latest_version, created_at, updated_at) values (?, ?, null, 'alice', 1, ?, ?)",
    );
    const insRun = raw.prepare(
      `insert into runs (id, workflow_id, version, status, input, cost_usd, created_by, created_at, started_at, finished_at, last_seq, cancel_requested)
       values (?, ?, 1, ?, '{}', 0.5, 'alice', ?, ?, ?, 1, 0)`,
    );
    raw.transaction(() => {
      for (let i = 0; i < 60; i++) {
        const w = `wf_m${String(i).padStart(2, '0')}`;
        insWf.run(w, w, now, now);
        for (let r = 0; r < i + 2; r++) insRun.run(`${w}-${r}`, w, r === 0 ? 'failed' : 'succeeded', now, now, now);
      }
    })();

    // A plain token gets the aggregates only: the per-workflow series name workflows.
    const plain = await t.request('GET', '/metrics', { token: t.tokens.bob });
    expect(plain.statusCode).toBe(200);
    expect(plain.body).toMatch(/^trellis_runs\{status="succeeded"\} \d+$/m);
    expect(plain.body).not.toContain('trellis_workflow_runs{');
    expect(plain.body).not.toContain('wf_m59');
    const res = await t.request('GET', '/metrics', { token: t.tokens.admin });
    expect(res.statusCode).toBe(200);
    const lines = res.body.split('\n');
    const series = lines.filter((l) => l.startsWith('trellis_workflow_runs{'));
    const workflows = new Set(series.map((l) => /workflow="([^"]+)"/.exec(l)?.[1]));
    expect(workflows.size).toBe(51); // 50 + other
    expect(workflows.has('other')).toBe(true);
    expect(workflows.has('wf_m59')).toBe(true);
    expect(workflows.has('wf_m09')).toBe(false);
    expect(workflows.has(wf)).toBe(false);
    expect(res.body).toMatch(/^trellis_workflow_runs\{workflow="wf_m59",status="succeeded"\} 60$/m);
    expect(res.body).toMatch(/^trellis_workflow_runs\{workflow="wf_m59",status="failed"\} 1$/m);
    // other: wf_m00…wf_m09 (2…11 runs, one failed each) and `metered` (1 succeeded run).
    expect(res.body).toMatch(/^trellis_workflow_runs\{workflow="other",status="failed"\} 10$/m);
    expect(res.body).toMatch(/^trellis_workflow_runs\{workflow="other",status="succeeded"\} 56$/m);
    expect(res.body).toMatch(/^trellis_workflow_cost_usd_total\{workflow="wf_m59"\} 30.5$/m);
    expect(res.body).toMatch(/^# TYPE trellis_run_claim_seconds histogram$/m);
    const count = Number(/^trellis_run_claim_seconds_count (\d+)$/m.exec(res.body)?.[1]);
    expect(count).toBeGreaterThanOrEqual(1 + 60 * 2);
    expect(res.body).toMatch(/^trellis_queue_depth\{kind="runs"\} \d+$/m);
  });

  it('histograms node attempt durations by node type, map items under their body type', async () => {
    const wf = json(await t.request('POST', '/api/v1/workflows', { body: branchingWorkflow('typed') })).id as string;
    const created = await t.request('POST', '/api/v1/workflows', {
      body: {
        name: 'typed-map',
        nodes: [
          { id: 'src', type: 'transform', expression: '[1, 2, 3]' },
          { id: 'echo_all', type: 'map', items: '$src', do: { type: 'tool_call', tool: 'test.echo', input: { v: '$item' } } },
        ],
        edges: [{ from: 'src', to: 'echo_all' }],
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const mapped = json(created).id as string;
    const before = await scrapeDurations();
    for (const [w, input] of [
      [wf, { n: 1 }],
      [mapped, {}],
    ] as const) {
      const started = await t.request('POST', `/api/v1/workflows/${w}/run`, { body: { input } });
      expect(started.statusCode, started.body).toBe(201);
      const { id } = json(started);
      expect((await t.engine.waitForRun(id)).status).toBe('succeeded');
    }
    const after = await scrapeDurations();
    // Labels: node types only (a closed set), each series a complete histogram.
    for (const type of after.keys()) {
      expect([
        'agent_call',
        'tool_call',
        'human_gate',
        'condition',
        'parallel',
        'join',
        'transform',
        'map',
        'workflow',
        'unknown',
      ]).toContain(type);
    }
    const tool = after.get('tool_call');
    expect(tool).toBeDefined();
    // `fetch` (1 attempt) and the map's 3 items (tool_call bodies) ran in this test.
    expect((tool?.count ?? 0) - (before.get('tool_call')?.count ?? 0)).toBe(4);
    expect(tool?.buckets.at(-1)).toEqual(['+Inf', tool?.count]);
    for (let i = 1; i < (tool?.buckets.length ?? 0); i++) {
      expect(tool?.buckets[i]?.[1]).toBeGreaterThanOrEqual(tool?.buckets[i - 1]?.[1] as number);
    }
    expect(after.has('unknown')).toBe(false);
    // Every finished attempt is in exactly one type's histogram.
    const attempts = Number(t.handle.raw.prepare('select count(*) from attempts where finished_at is not null').pluck().get());
    expect([...after.values()].reduce((a, h) => a + h.count, 0)).toBe(attempts);
  });
});

async function scrapeDurations(): Promise<Map<string, { count: number; buckets: [string, number][] }>> {
  const res = await t.request('GET', '/metrics', { token: t.tokens.bob });
  expect(res.statusCode).toBe(200);
  expect(res.body).toMatch(/^# TYPE trellis_node_duration_seconds histogram$/m);
  const out = new Map<string, { count: number; buckets: [string, number][] }>();
  for (const m of res.body.matchAll(/^trellis_node_duration_seconds_bucket\{type="([^"]+)",le="([^"]+)"\} (\d+)$/gm)) {
    const h = out.get(m[1] as string) ?? { count: 0, buckets: [] };
    h.buckets.push([m[2] as string, Number(m[3])]);
    out.set(m[1] as string, h);
  }
  for (const m of res.body.matchAll(/^trellis_node_duration_seconds_count\{type="([^"]+)"\} (\d+)$/gm)) {
    const h = out.get(m[1] as string);
    if (h) h.count = Number(m[2]);
  }
  expect(res.body).not.toMatch(/^trellis_node_duration_seconds_count \d/m); // no unlabelled series
  return out;
}
