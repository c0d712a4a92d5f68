/**
 * `/metrics` per-workflow series, scraped: runs by workflow and status and the cost of each
 * workflow's runs, with the label cardinality capped (the 50 workflows with the most runs by id,
 * the rest summed as workflow="other"); the claim latency histogram.
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
});
