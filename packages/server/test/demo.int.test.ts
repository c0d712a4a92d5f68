/**
 * `trellis serve --demo`: the demo agents and MCP server start on loopback and are registered,
 * the demo workflows are saved for the admin, and the hotel-trip workflow runs against the real
 * agents until its human gate, is approved, and succeeds. Trellis calls Trellis: the demo's
 * `demo-trellis-calls-trellis` calls `demo-peer-booking-desk` on a second Trellis instance (its own
 * database, started in-process) over A2A on loopback (a token of that instance, never an admin's);
 * the desk's gate waits on the caller's node and is decided there.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { RunRecord } from '@trellis/core';
import { listTokens, SecretVault, secretKeySource, verifyToken } from '@trellis/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PEER, type RunningServer, startTrellisServer } from '../src/index.ts';
import { EXAMPLE_OPTIONS } from './examples.ts';

const ADMIN = 'demo-admin-token-0123456789abcdef';
let srv: RunningServer;
let db: string;

beforeAll(async () => {
  db = join(mkdtempSync(join(tmpdir(), 'trellis-demo-')), 'trellis.db');
  srv = await startTrellisServer({
    db,
    host: '127.0.0.1',
    port: 0,
    ...EXAMPLE_OPTIONS,
    demo: true,
    adminToken: ADMIN,
    consoleDir: false,
    graceMs: 0,
  });
}, 60_000);
afterAll(async () => {
  await srv?.close(0);
});

// biome-ignore lint/suspicious/noExplicitAny: reads arbitrary response JSON
async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${srv.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Runs demo-slow-agent (an A2A agent and an MCP tool of the demo) to its end. */
async function runSlowDemo(delayMs: number): Promise<RunRecord> {
  const list = await api('GET', '/workflows?limit=50');
  const wf = list.body.items.find((w: { name: string }) => w.name === 'demo-slow-agent');
  const run = await api('POST', `/workflows/${wf.id}/run`, { input: { delayMs } });
  expect(run.status).toBe(201);
  for (let i = 0; i < 300; i++) {
    const r = await srv.engine.getRun(run.body.id);
    if (r && ['succeeded', 'failed', 'cancelled'].includes(r.status)) return r;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error('the run did not finish');
}

describe('a second start that fails changes nothing', () => {
  it('on the same port or the same database: refused before any side effect; the first server demo runs still succeed', async () => {
    const port = Number(new URL(srv.url).port);
    const agentsBefore = (await api('GET', '/agents')).body.items.map((a: { name: string; url: string }) => [a.name, a.url]);
    const sameOptions = { ...EXAMPLE_OPTIONS, db, host: '127.0.0.1', demo: true, consoleDir: false as const, graceMs: 0 };
    // The same port: the port is held before the database is even opened.
    await expect(startTrellisServer({ ...sameOptions, port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    // Another port, the same SQLite database: the database lock refuses it, naming the holder.
    await expect(startTrellisServer({ ...sameOptions, port: 0 })).rejects.toMatchObject({
      code: 'DATABASE_IN_USE',
      message: expect.stringMatching(/in use by trellis serve/),
    });
    const agentsAfter = (await api('GET', '/agents')).body.items.map((a: { name: string; url: string }) => [a.name, a.url]);
    expect(agentsAfter).toEqual(agentsBefore);
    const done = await runSlowDemo(20);
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    expect(done.nodes.wait?.status).toBe('succeeded');
    expect(done.nodes.convert?.status).toBe('succeeded');
  }, 60_000);

  it('a stale lock (its process is gone) is taken over; the lock is released on close', async () => {
    const other = join(mkdtempSync(join(tmpdir(), 'trellis-lock-')), 'trellis.db');
    writeFileSync(
      `${other}.lock`,
      JSON.stringify({ pid: 2 ** 22 + 7, host: hostname(), what: 'a crashed server', startedAt: '' }),
    );
    const s = await startTrellisServer({ db: other, host: '127.0.0.1', port: 0, demo: false, consoleDir: false, graceMs: 0 });
    expect(JSON.parse(readFileSync(`${other}.lock`, 'utf8')).pid).toBe(process.pid);
    await s.close(0);
    expect(existsSync(`${other}.lock`)).toBe(false);
  }, 60_000);
});

describe('trellis serve --demo', () => {
  it('seeds the demo workflows and runs hotel-trip against the demo agents, through the gate and the agent question', async () => {
    const list = await api('GET', '/workflows?limit=50');
    const trip = list.body.items.find((w: { name: string }) => w.name === 'demo-hotel-trip');
    expect(trip, JSON.stringify(list.body.items.map((w: { name: string }) => w.name))).toBeDefined();
    const run = await api('POST', `/workflows/${trip.id}/run`, { input: { city: 'Lisbon' } });
    expect(run.status).toBe(201);
    const waitFor = async (pred: (r: RunRecord) => boolean) => {
      for (let i = 0; i < 300; i++) {
        const r = await srv.engine.getRun(run.body.id);
        if (r && pred(r)) return r;
        await new Promise((res) => setTimeout(res, 100));
      }
      throw new Error(`run ${run.body.id} did not get there: ${JSON.stringify(await srv.engine.getRun(run.body.id))}`);
    };
    const atGate = await waitFor((r) => r.nodes.approve?.status === 'waiting');
    expect(atGate.nodes.search?.status).toBe('succeeded');
    expect(atGate.nodes.affordable?.status).toBe('succeeded');
    expect((await api('POST', `/workflow_runs/${run.body.id}/nodes/approve/approve`, { comment: 'book it' })).status).toBe(200);
    // The concierge agent asks which room (A2A input-required): answered like a gate.
    const asked = await waitFor((r) => r.nodes.book?.status === 'waiting');
    expect(asked.nodes.book?.prompt).toMatch(/room/);
    expect((await api('POST', `/workflow_runs/${run.body.id}/nodes/book/approve`, { comment: 'deluxe' })).status).toBe(200);
    const done = await waitFor((r) => ['succeeded', 'failed', 'cancelled'].includes(r.status));
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    // The hotel reviewed, proposed at the gate and booked is one and the same.
    const out = done.output as { hotel: string; reviews: { hotel: string } };
    expect(out.reviews.hotel).toBe(out.hotel);
    expect(atGate.nodes.approve?.prompt).toContain(`Book ${out.hotel} at`);
  }, 60_000);
});

describe('the retry demo', () => {
  it('demo-retry-itinerary fails at its last step; the retry runs only that step and shows the cost saved', async () => {
    const list = await api('GET', '/workflows?limit=50');
    const wf = list.body.items.find((w: { name: string }) => w.name === 'demo-retry-itinerary');
    expect(wf, JSON.stringify(list.body.items.map((w: { name: string }) => w.name))).toBeDefined();
    const run = await api('POST', `/workflows/${wf.id}/run`, { input: { city: 'Paris' } });
    const first = await srv.engine.waitForRun(run.body.id);
    expect(first.status).toBe('failed');
    expect(first.nodes.write?.error?.message).toMatch(/overloaded/);
    expect(first.costUsd).toBeGreaterThan(0);
    const retry = await api('POST', `/workflow_runs/${first.id}/retry`, {});
    expect(retry.status).toBe(201);
    const second = await srv.engine.waitForRun(retry.body.id);
    expect(second.status, JSON.stringify(second.error)).toBe('succeeded');
    expect(second.nodes.search?.reusedFrom).toBe(first.id);
    expect(second.nodes.analyze?.reusedFrom).toBe(first.id);
    expect(second.costSavedUsd).toBeCloseTo(first.costUsd);
    expect(second.costUsd).toBeGreaterThan(0); // the writer, and only the writer
    expect(second.output).toMatchObject({ hotel: { name: 'Montmartre Loft' }, itinerary: expect.any(Array) });
  }, 60_000);
});

describe('Trellis calling Trellis in the demo: two instances', () => {
  const peerApi = async (path: string) => {
    if (!srv.demoPeer?.registered) throw new Error('no second instance');
    const { instance } = srv.demoPeer;
    const token = readFileSync(instance.adminTokenFile, 'utf8').trim();
    const res = await fetch(`${instance.url}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
    // biome-ignore lint/suspicious/noExplicitAny: reads arbitrary response JSON
    return { status: res.status, body: (await res.json()) as any };
  };

  it("demo-trellis-calls-trellis calls demo-peer-booking-desk on a second instance over A2A: the desk's gate waits on the caller's node, approving it there finishes both runs, the cost adds up, no token in either database", async () => {
    expect(srv.demoPeer).toMatchObject({ registered: true });
    if (!srv.demoPeer?.registered) return;
    const peer = srv.demoPeer.instance;
    // A separate instance: its own port and its own database beside the main one.
    expect(peer.url).not.toBe(srv.url);
    expect(peer.db).toBe(join(dirname(db), DEMO_PEER.dbFile));
    expect(statSync(peer.adminTokenFile).mode & 0o777).toBe(0o600);
    const list = await api('GET', '/workflows?limit=50');
    const names = list.body.items.map((w: { name: string }) => w.name);
    const outerWf = list.body.items.find((w: { name: string }) => w.name === 'demo-trellis-calls-trellis');
    expect(outerWf, JSON.stringify(names)).toBeDefined();
    expect(names).not.toContain(DEMO_PEER.workflow); // the desk lives in the second instance only
    const peerList = await peerApi('/workflows?limit=50');
    expect(peerList.status).toBe(200);
    expect(peerList.body.items.map((w: { name: string }) => w.name)).toEqual([DEMO_PEER.workflow]);
    const deskWf = peerList.body.items[0];
    // The main instance's agent is the second instance's workflow endpoint, registered with a secret reference.
    const agent = (await api('GET', '/agents')).body.items.find((a: { name: string }) => a.name === DEMO_PEER.agent);
    expect(agent.url).toBe(`${peer.url}/a2a/workflows/${deskWf.id}`);
    expect(JSON.stringify(agent)).toContain(`$secrets.${DEMO_PEER.secret}`);

    const run = await api('POST', `/workflows/${outerWf.id}/run`, { input: { city: 'Lisbon' } });
    expect(run.status).toBe(201);
    const waiting = await srv.engine.waitForRun(run.body.id, { orWaiting: true });
    expect(waiting.status, JSON.stringify(waiting.error)).toBe('waiting');
    expect(waiting.nodes.book?.status).toBe('waiting');
    expect(waiting.nodes.book?.prompt).toContain('Book Bairro Hostel at 38 EUR a night?');
    // The desk's run is in the second instance's database, started by its principal demo-peer.
    const deskRuns = (await peerApi(`/workflows/${deskWf.id}/runs`)).body.items;
    expect(deskRuns).toHaveLength(1);
    const desk = await peer.server.engine.getRun(deskRuns[0].id);
    expect(desk?.status).toBe('waiting');
    expect(desk?.createdBy).toBe(DEMO_PEER.principal);
    expect(await srv.engine.getRun(deskRuns[0].id)).toBeFalsy(); // not in the main database

    // Approving on the caller's node resumes the desk's run on the second instance.
    expect((await api('POST', `/workflow_runs/${run.body.id}/nodes/book/approve`, { comment: 'book it' })).status).toBe(200);
    const done = await srv.engine.waitForRun(run.body.id);
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    expect(done.output).toMatchObject({ booking: { hotel: 'Bairro Hostel', price: 38, status: 'booked' } });
    const deskDone = await peer.server.engine.waitForRun(deskRuns[0].id);
    expect(deskDone.status).toBe('succeeded');
    // The cost adds up: the caller's own search plus everything the desk spent.
    const searchCost = done.nodes.search?.costUsd ?? 0;
    expect(searchCost).toBeGreaterThan(0);
    expect(deskDone.costUsd).toBeGreaterThan(0);
    expect(done.costUsd).toBeCloseTo(searchCost + deskDone.costUsd, 6);

    // No token in either database: not the caller's, nor either administrator's (only the sealed secret).
    const vault = await SecretVault.open(srv.store.db, secretKeySource(db, process.env));
    const deskToken = await vault.reveal(DEMO_PEER.secret, undefined);
    const peerAdmin = readFileSync(peer.adminTokenFile, 'utf8').trim();
    const dir = dirname(db);
    const dbFiles = readdirSync(dir).filter((n) => /^(trellis|peer-desk)\.db(-wal|-shm)?$/.test(n));
    expect(dbFiles).toEqual(expect.arrayContaining(['trellis.db', DEMO_PEER.dbFile]));
    for (const f of dbFiles) {
      const bytes = readFileSync(join(dir, f)).toString('latin1');
      for (const secret of [deskToken, ADMIN, peerAdmin]) expect(bytes.includes(secret), f).toBe(false);
    }
  }, 60_000);

  it("at the next start the second instance keeps its database and the caller's token is reused; with a new second database a new token is made", async () => {
    if (!srv.demoPeer?.registered) throw new Error('no second instance');
    const peerDb = srv.demoPeer.instance.db;
    const peerTokens = async () => {
      if (!srv.demoPeer?.registered) throw new Error('no second instance');
      return (await listTokens(srv.demoPeer.instance.server.store.db, DEMO_PEER.principal)).filter((t) => t.revokedAt === null);
    };
    const before = await peerTokens();
    expect(before).toHaveLength(1);
    /** Stops the server, does `whileStopped`, and starts it again on the same databases. */
    const restart = async (whileStopped?: () => void) => {
      await srv.close(0);
      whileStopped?.();
      srv = await startTrellisServer({
        db,
        host: '127.0.0.1',
        port: 0,
        ...EXAMPLE_OPTIONS,
        demo: true,
        adminToken: ADMIN,
        consoleDir: false,
        graceMs: 0,
      });
      expect(srv.demoPeer).toMatchObject({ registered: true });
    };
    await restart();
    expect((await peerTokens()).map((t) => t.id)).toEqual(before.map((t) => t.id));
    const deskRuns = await peerApi('/workflows?limit=50');
    expect(deskRuns.body.items.map((w: { name: string }) => w.name)).toEqual([DEMO_PEER.workflow]);
    if (!srv.demoPeer?.registered) return;
    const agent = (await api('GET', '/agents')).body.items.find((a: { name: string }) => a.name === DEMO_PEER.agent);
    expect(agent.url.startsWith(`${srv.demoPeer.instance.url}/a2a/workflows/`)).toBe(true);

    // The second database removed while stopped: a new one, a new token, kept in the main secret.
    await restart(() => {
      for (const f of readdirSync(dirname(peerDb)).filter((n) => n.startsWith(DEMO_PEER.dbFile)))
        rmSync(join(dirname(peerDb), f));
    });
    if (!srv.demoPeer?.registered) return;
    const fresh = await peerTokens();
    expect(fresh).toHaveLength(1);
    const vault = await SecretVault.open(srv.store.db, secretKeySource(db, process.env));
    const kept = await vault.reveal(DEMO_PEER.secret, undefined);
    const who = await verifyToken(srv.demoPeer.instance.server.store.db, kept);
    expect(who?.name).toBe(DEMO_PEER.principal);
    expect((await peerApi('/workflows?limit=50')).status).toBe(200); // a new admin token file
  }, 60_000);
});
