/**
 * Triggers on SQLite: schedules driven by a manual clock (no real waiting) — ticks across a
 * daylight-saving change, one catch-up run after downtime, rescheduling on save, stopping on
 * delete — and signed webhooks through the HTTP API: valid, invalid, missing and rotated
 * signatures, replayed deliveries, the wrong workflow, input mapping and schema errors, ?wait.
 */
import { compile, nextFireTimes } from '@trellis/core';
import { ManualClock, TriggerScheduler } from '@trellis/runtime';
import { listTriggers, SecretVault, secretKeySource, syncTriggers } from '@trellis/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signBody } from '../src/triggers/signature.ts';
import { json, startTestServer, type TestServer } from './helpers.ts';

let t: TestServer;

let vault: SecretVault;

beforeAll(async () => {
  t = await startTestServer();
  // The secrets key of a SQLite database: a key file beside it (as `trellis serve` does).
  vault = await SecretVault.open(t.handle.db, secretKeySource(t.dbPath, {}));
  (t.server.ctx as { secrets: SecretVault }).secrets = vault;
});
afterAll(async () => {
  await t.close();
});

function scheduled(name: string, cron: string, timezone?: string) {
  return {
    name,
    inputSchema: { type: 'object', properties: { who: { type: 'string' } } },
    nodes: [{ id: 'hello', type: 'transform', expression: "'hello ' & $context.who" }],
    triggers: [{ id: 'tick', type: 'schedule', cron, ...(timezone ? { timezone } : {}), input: { who: 'cron' } }],
  };
}

/** Forgets the schedule state a save stored (computed from the real time) so a test's manual clock decides. */
async function resetTriggers(workflowId: string) {
  await t.handle.db.deleteFrom('triggers').where('workflow_id', '=', workflowId).execute();
}

async function runsOf(workflowId: string) {
  return t.handle.db
    .selectFrom('trigger_runs')
    .innerJoin('runs', 'runs.id', 'trigger_runs.run_id')
    .select(['runs.id', 'runs.status', 'trigger_runs.tick', 'runs.input'])
    .where('trigger_runs.workflow_id', '=', workflowId)
    .orderBy('trigger_runs.tick')
    .execute();
}

describe('trigger definitions', () => {
  it('reports bad cron, time zones, duplicate ids and webhook mappings that read other variables', () => {
    const r = compile({
      name: 'bad',
      nodes: [{ id: 'a', type: 'transform', expression: '1' }],
      triggers: [
        { id: 'x', type: 'schedule', cron: '61 * * * *' },
        { id: 'x', type: 'schedule', cron: '* * * *' },
        { id: 'y', type: 'schedule', cron: '@hourly', timezone: 'Mars/Olympus' },
        { id: 'z', type: 'webhook', input: '$context.a' },
        { id: 'w', type: 'webhook', input: '$body.(' },
      ],
    });
    expect(r.ok).toBe(false);
    const codes = r.errors.map((e) => `${e.code} ${e.path}`);
    expect(codes).toContain('INVALID_TRIGGER /triggers/0/cron');
    expect(codes).toContain('INVALID_TRIGGER /triggers/1/id');
    expect(codes).toContain('INVALID_TRIGGER /triggers/1/cron');
    expect(codes).toContain('INVALID_TRIGGER /triggers/2/timezone');
    expect(codes).toContain('UNKNOWN_BINDING_REFERENCE /triggers/3/input');
    expect(codes).toContain('EXPRESSION_SYNTAX /triggers/4/input');
    expect(r.errors.find((e) => e.path === '/triggers/1/cron')?.message).toMatch(/five fields/);
  });

  it('saving through the API refuses an invalid trigger with 422', async () => {
    const res = await t.request('POST', '/api/v1/workflows', { body: scheduled('bad-cron', 'every minute') });
    expect(res.statusCode).toBe(422);
    expect(json(res).errors[0].code).toBe('INVALID_TRIGGER');
  });
});

describe('schedules (manual clock)', () => {
  it('fires each tick once, across a daylight-saving change, in the trigger time zone', async () => {
    const created = json(await t.request('POST', '/api/v1/workflows', { body: scheduled('dst', '30 2 * * *', 'Europe/Paris') }));
    const clock = new ManualClock(Date.parse('2026-03-27T12:00:00Z'));
    await resetTriggers(created.id);
    await syncTriggers(t.handle.db, created.id, 1, scheduled('dst', '30 2 * * *', 'Europe/Paris').triggers as never, clock.now());
    const s = new TriggerScheduler({ db: t.handle, engine: t.engine, clock, pollMs: 86_400_000 });
    s.start();
    await s.pass();
    for (let h = 0; h < 4 * 6; h++) {
      await clock.advance(4 * 3_600_000);
      await s.pass();
    }
    await s.stop();
    const runs = await runsOf(created.id);
    // 02:30 CET on the 28th; the 29th's 02:30 does not exist (clocks jump to 03:00): it fires at
    // 03:00 CEST; then 02:30 CEST.
    expect(runs.map((r) => r.tick)).toEqual([
      '2026-03-28T01:30:00.000Z',
      '2026-03-29T01:00:00.000Z',
      '2026-03-30T00:30:00.000Z',
      '2026-03-31T00:30:00.000Z',
    ]);
    for (const r of runs) expect((await t.engine.waitForRun(r.id)).output).toEqual({ hello: 'hello cron' });
    expect(s.stats.started).toBe(4);
  });

  it('after downtime starts one catch-up run, then keeps to the schedule', async () => {
    const def = scheduled('catch-up', '0 * * * *');
    const created = json(await t.request('POST', '/api/v1/workflows', { body: def }));
    const clock = new ManualClock(Date.parse('2026-06-01T10:30:00Z'));
    await resetTriggers(created.id);
    await syncTriggers(t.handle.db, created.id, 1, def.triggers as never, clock.now());
    const s = new TriggerScheduler({ db: t.handle, engine: t.engine, clock, pollMs: 60_000 });
    // Everything is down for ten hours.
    await clock.advance(10 * 3_600_000);
    s.start();
    await s.pass();
    let runs = await runsOf(created.id);
    expect(runs.map((r) => r.tick)).toEqual(['2026-06-01T11:00:00.000Z']);
    const [info] = await listTriggers(t.handle.db, created.id);
    expect(info?.nextFireAt).toBe('2026-06-01T21:00:00.000Z');
    await clock.advance(3_600_000);
    await s.pass();
    runs = await runsOf(created.id);
    expect(runs.map((r) => r.tick)).toEqual(['2026-06-01T11:00:00.000Z', '2026-06-01T21:00:00.000Z']);
    await s.stop();
  });

  it('a save reschedules, removing the trigger or deleting the workflow stops it', async () => {
    const def = scheduled('resched', '*/10 * * * *');
    const created = json(await t.request('POST', '/api/v1/workflows', { body: def }));
    let list = json(await t.request('GET', `/api/v1/workflows/${created.id}/triggers`));
    expect(list.items).toHaveLength(1);
    expect(list.items[0].nextFireTimes).toHaveLength(5);
    const [a, b] = list.items[0].nextFireTimes.map((s: string) => Date.parse(s));
    expect(b - a).toBe(600_000);

    await t.request('PUT', `/api/v1/workflows/${created.id}`, { body: scheduled('resched', '0 9 * * 1', 'America/New_York') });
    list = json(await t.request('GET', `/api/v1/workflows/${created.id}/triggers`));
    expect(list.items[0].version).toBe(2);
    expect(list.items[0].nextFireAt).toBe(
      new Date(nextFireTimes('0 9 * * 1', 'America/New_York', Date.now(), 1)[0] as number).toISOString(),
    );
    const listed = json(await t.request('GET', '/api/v1/workflows?limit=200')).items.find(
      (w: { id: string }) => w.id === created.id,
    );
    expect(listed.triggers).toEqual({ schedule: 1, webhook: 0 });

    const { triggers: _gone, ...withoutTriggers } = scheduled('resched', '* * * * *');
    await t.request('PUT', `/api/v1/workflows/${created.id}`, { body: withoutTriggers });
    expect(json(await t.request('GET', `/api/v1/workflows/${created.id}/triggers`)).items).toEqual([]);

    await t.request('PUT', `/api/v1/workflows/${created.id}`, { body: scheduled('resched', '* * * * *') });
    expect(await listTriggers(t.handle.db, created.id)).toHaveLength(1);
    expect((await t.request('DELETE', `/api/v1/workflows/${created.id}`)).statusCode).toBe(204);
    expect(await listTriggers(t.handle.db, created.id)).toHaveLength(0);
  });
});

describe('webhooks', () => {
  let workflowId: string;
  let secret: string;
  const hook = () => `/api/v1/hooks/${workflowId}/github`;

  function deliver(body: string, options: { sign?: string | null; delivery?: string; query?: string; secret?: string } = {}) {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const sig = options.sign === undefined ? signBody(options.secret ?? secret, body) : options.sign;
    if (sig !== null) headers['x-trellis-signature'] = sig;
    if (options.delivery) headers['x-trellis-delivery'] = options.delivery;
    return t.request('POST', `${hook()}${options.query ?? ''}`, { token: null, body, headers });
  }

  async function runCount(): Promise<number> {
    const r = await t.handle.db
      .selectFrom('runs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('workflow_id', '=', workflowId)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  beforeAll(async () => {
    const res = await t.request('POST', '/api/v1/workflows', {
      body: {
        name: 'on-push',
        inputSchema: { type: 'object', required: ['repo'], properties: { repo: { type: 'string' }, by: { type: 'string' } } },
        nodes: [{ id: 'note', type: 'transform', expression: "$context.repo & ' pushed by ' & $context.by" }],
        triggers: [
          {
            id: 'github',
            type: 'webhook',
            input: "{ 'repo': $body.repository.full_name, 'by': $headers.`x-sender` ? $headers.`x-sender` : $query.by }",
          },
        ],
      },
    });
    expect(res.statusCode).toBe(201);
    workflowId = json(res).id;
    // A viewer may not create the secret; the owner may.
    await t.request('PUT', `/api/v1/workflows/${workflowId}/permissions`, { body: [{ principal: 'bob', role: 'viewer' }] });
    expect(
      (await t.request('POST', `/api/v1/workflows/${workflowId}/triggers/github/secret`, { token: t.tokens.bob })).statusCode,
    ).toBe(403);
    const created = await t.request('POST', `/api/v1/workflows/${workflowId}/triggers/github/secret`);
    expect(created.statusCode).toBe(201);
    secret = json(created).secret;
    expect(secret).toMatch(/^whsec_/);
    const list = json(await t.request('GET', `/api/v1/workflows/${workflowId}/triggers`));
    expect(list.items[0].webhook).toMatchObject({ url: hook(), hasSecret: true });
    expect(JSON.stringify(list)).not.toContain(secret);
  });

  it('a signed delivery starts a run whose input is mapped from the body, headers and query', async () => {
    const body = JSON.stringify({ repository: { full_name: 'acme/app' } });
    const res = await deliver(body, { query: '?by=query-user&wait=10' });
    expect(res.statusCode).toBe(200);
    expect(json(res)).toMatchObject({ status: 'succeeded', output: { note: 'acme/app pushed by query-user' }, replayed: false });
    const record = json(await t.request('GET', `/api/v1/workflow_runs/${json(res).runId}`));
    expect(record.trigger).toEqual({ id: 'github', type: 'webhook', deliveryId: null });
    expect(record.createdBy).toBe('trigger:github');
    const runs = json(await t.request('GET', `/api/v1/workflows/${workflowId}/runs`));
    expect(runs.items[0].trigger).toMatchObject({ id: 'github', type: 'webhook' });
  });

  it('refuses missing, wrong and stale signatures with 401 and starts no run', async () => {
    const before = await runCount();
    const body = JSON.stringify({ repository: { full_name: 'acme/app' } });
    const missing = await deliver(body, { sign: null });
    expect(missing.statusCode).toBe(401);
    expect(json(missing).detail).toMatch(/missing X-Trellis-Signature/);
    expect((await deliver(body, { sign: `sha256=${'0'.repeat(64)}` })).statusCode).toBe(401);
    expect((await deliver(body, { sign: 'sha1=abc' })).statusCode).toBe(401);
    // Signed over other bytes (re-serialised JSON) does not match.
    expect((await deliver(body, { sign: signBody(secret, JSON.stringify(JSON.parse(body), null, 2)) })).statusCode).toBe(401);
    // Rotation: the old secret stops working at once.
    const old = secret;
    secret = json(await t.request('POST', `/api/v1/workflows/${workflowId}/triggers/github/secret`)).secret;
    expect((await deliver(body, { secret: old })).statusCode).toBe(401);
    expect(await runCount()).toBe(before);
    expect((await deliver(body)).statusCode).toBe(202);
  });

  it('keeps the signing secret encrypted at rest, across a key rotation and from before encryption', async () => {
    const stored = async () =>
      (
        await t.handle.db
          .selectFrom('triggers')
          .select('secret')
          .where('workflow_id', '=', workflowId)
          .where('trigger_id', '=', 'github')
          .executeTakeFirstOrThrow()
      ).secret ?? '';
    const before = await stored();
    expect(before).toMatch(/^sealed\.v1\./);
    expect(before).not.toContain(secret);
    expect(before).not.toContain(secret.slice(6));
    const body = JSON.stringify({ repository: { full_name: 'acme/app' } });
    // `trellis secrets rotate-key`: the secret is re-encrypted under the new key and keeps working.
    const rotated = await vault.rotate();
    const after = await stored();
    expect(after).toMatch(new RegExp(`^sealed\\.v1\\.${rotated.keyId}\\.`));
    expect(after).not.toBe(before);
    expect((await deliver(body)).statusCode).toBe(202);
    // A secret stored before encryption existed still verifies, and the next rotation seals it.
    await t.handle.db.updateTable('triggers').set({ secret }).where('workflow_id', '=', workflowId).execute();
    expect((await deliver(body)).statusCode).toBe(202);
    await vault.rotate();
    expect(await stored()).toMatch(/^sealed\.v1\./);
    expect((await deliver(body)).statusCode).toBe(202);
    // Moved to another trigger's row, a sealed secret does not open (it is bound to its trigger).
    const sealed = await vault.seal('webhook:wf_other/github', secret);
    await t.handle.db.updateTable('triggers').set({ secret: sealed }).where('workflow_id', '=', workflowId).execute();
    const moved = await deliver(body);
    expect(moved.statusCode).toBe(503);
    expect(json(moved).detail).toMatch(/cannot read the webhook's signing secret/);
    // A new secret replaces it.
    secret = json(await t.request('POST', `/api/v1/workflows/${workflowId}/triggers/github/secret`)).secret;
    expect((await deliver(body)).statusCode).toBe(202);
  });

  it('a replayed delivery id returns the first run', async () => {
    const body = JSON.stringify({ repository: { full_name: 'acme/replay' } });
    const first = await deliver(body, { delivery: 'd-123' });
    expect(first.statusCode).toBe(202);
    const before = await runCount();
    const again = await deliver(body, { delivery: 'd-123' });
    expect(again.statusCode).toBe(202);
    expect(json(again)).toMatchObject({ runId: json(first).runId, replayed: true });
    expect(await runCount()).toBe(before);
    const record = json(await t.request('GET', `/api/v1/workflow_runs/${json(first).runId}`));
    expect(record.trigger).toEqual({ id: 'github', type: 'webhook', deliveryId: 'd-123' });
  });

  it('the wrong workflow or trigger is 404; input errors are 422 without a run', async () => {
    const body = JSON.stringify({ repository: { full_name: 'acme/app' } });
    const headers = { 'x-trellis-signature': signBody(secret, body), 'content-type': 'application/json' };
    expect((await t.request('POST', `/api/v1/hooks/wf_nope/github`, { token: null, body, headers })).statusCode).toBe(404);
    expect((await t.request('POST', `/api/v1/hooks/${workflowId}/nope`, { token: null, body, headers })).statusCode).toBe(404);
    const before = await runCount();
    // The mapping yields no repo: the inputSchema refuses it.
    const noRepo = await deliver(JSON.stringify({ other: 1 }));
    expect(noRepo.statusCode).toBe(422);
    expect(json(noRepo).code).toBe('INPUT_INVALID');
    // Not JSON although it says so.
    const bad = await deliver('{not json');
    expect(bad.statusCode).toBe(400);
    expect(await runCount()).toBe(before);
  });

  it('without ?wait answers 202 with the run id; a slow run under ?wait answers 202 too', async () => {
    const res = await deliver(JSON.stringify({ repository: { full_name: 'acme/app' } }));
    expect(res.statusCode).toBe(202);
    expect(res.headers.location).toBe(`/api/v1/workflow_runs/${json(res).runId}`);
    expect((await deliver('{}', { query: '?wait=31' })).statusCode).toBe(400);
  });
});
