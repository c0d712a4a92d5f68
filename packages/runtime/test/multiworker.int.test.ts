/**
 * Many workers and servers, one PostgreSQL (issue 7): exactly-once attempts across workers,
 * a stale worker fenced, a killed worker's runs reclaimed, PostgreSQL restarted mid-run, and
 * live events seen by subscribers of other processes.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Executor, TrellisError } from '@trellis/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../../store/test/helpers/postgres.ts';
import { ManualClock } from '../src/index.ts';
import { fiveNodes, type PgNode, pgNode, saveWorkflow } from './pg-harness.ts';

let pg: TestPostgres;
beforeAll(async () => {
  pg = await startPostgres();
}, 120_000);
afterAll(async () => {
  try {
    // Every run any test left behind satisfies the run invariants (nothing lost or reordered).
    await pg?.checkInvariants();
  } finally {
    await pg?.destroy();
  }
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function counter(worker: string, log: Map<string, string[]>, delayMs = 1): Executor {
  return {
    async execute(_input, ctx) {
      const list = log.get(ctx.idempotencyKey) ?? [];
      list.push(worker);
      log.set(ctx.idempotencyKey, list);
      await sleep(delayMs);
      return { kind: 'succeeded', output: { by: worker } };
    },
  };
}

describe('many workers, one PostgreSQL', () => {
  it('N workers × M runs: every attempt executed exactly once, work spread over the workers', async () => {
    const url = await pg.createDatabase('nxm');
    const log = new Map<string, string[]>();
    const server = await pgNode(url, { execute: false });
    const workers: PgNode[] = [];
    for (const w of ['w1', 'w2', 'w3'])
      workers.push(await pgNode(url, { tools: { count: counter(w, log, 3) }, workerId: w, claimBatch: 3 }));
    try {
      const wf = await saveWorkflow(server.store, fiveNodes('count'));
      const ids = await Promise.all(
        Array.from({ length: 45 }, () => server.engine.startRun({ workflowId: wf, version: 1, input: {} })),
      );
      const recs = await Promise.all(ids.map((r) => server.engine.waitForRun(r.runId)));
      expect(recs.map((r) => r.status)).toEqual(recs.map(() => 'succeeded'));
      for (const r of recs) {
        for (const n of ['a', 'b', 'c', 'd']) {
          expect(r.nodes[n]!.attempts).toHaveLength(1);
          expect(log.get(`${r.id}:${n}:1`), `${r.id}:${n}`).toHaveLength(1);
        }
      }
      expect(log.size).toBe(45 * 4);
      const byWorker = new Set([...log.values()].flat());
      expect(byWorker.size).toBeGreaterThanOrEqual(2);
    } finally {
      for (const w of workers) await w.close();
      await server.close();
    }
  });

  it('heartbeats racing the commits that finish runs: no lease reported lost, every parent resumed by its child', async () => {
    const url = await pg.createDatabase('heartbeats');
    const warnings: string[] = [];
    const logger = { info: () => {}, warn: (msg: string) => warnings.push(msg), error: (msg: string) => warnings.push(msg) };
    const server = await pgNode(url, { execute: false });
    // A heartbeat every 200 ms while runs finish all the time: renewals meet the commits that
    // give finished runs' leases back.
    const worker = await pgNode(url, { leaseMs: 600, workerId: 'hb', logger });
    try {
      const child = await saveWorkflow(server.store, {
        name: 'child',
        nodes: [
          { id: 'x', type: 'transform', expression: '$context.n * 2' },
          { id: 'y', type: 'transform', expression: '$x + 1' },
        ],
        edges: [{ from: 'x', to: 'y' }],
        output: { y: '$y' },
      });
      const parent = await saveWorkflow(server.store, {
        name: 'parent',
        nodes: [
          { id: 'prep', type: 'transform', expression: '$context.n' },
          { id: 'sub', type: 'workflow', workflow: child, input: { n: '$prep' } },
        ],
        edges: [{ from: 'prep', to: 'sub' }],
        output: { y: '$sub.y' },
      } as unknown as Parameters<typeof saveWorkflow>[1]);
      const total = 240;
      let next = 0;
      const outputs: unknown[] = [];
      const lane = async () => {
        while (next < total) {
          const n = next++;
          const { runId } = await server.engine.startRun({ workflowId: parent, version: 1, input: { n } });
          const rec = await server.engine.waitForRun(runId);
          expect(rec.status, JSON.stringify(rec.error)).toBe('succeeded');
          outputs[n] = rec.output;
        }
      };
      await Promise.all(Array.from({ length: 24 }, lane));
      expect(outputs).toEqual(Array.from({ length: total }, (_, n) => ({ y: n * 2 + 1 })));
      expect(warnings.filter((w) => w.startsWith('lease lost'))).toEqual([]);
    } finally {
      await worker.close();
      await server.close();
    }
  }, 120_000);

  it('fences a stale worker: its late result changes nothing, another worker completes the run', async () => {
    const url = await pg.createDatabase('fence');
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const staleRan: string[] = [];
    // Worker A's clock never moves, so it never heartbeats: its lease lapses while it works.
    const frozen = new ManualClock(Date.now());
    const a = await pgNode(url, {
      workerId: 'stale',
      leaseMs: 800,
      clock: frozen,
      tools: {
        slow: {
          async execute(_i, ctx) {
            staleRan.push(ctx.idempotencyKey);
            await gate;
            return { kind: 'succeeded', output: { by: 'stale' } };
          },
        },
      },
    });
    const b = await pgNode(url, { workerId: 'fresh', leaseMs: 800, tools: { slow: counter('fresh', new Map()) } });
    try {
      const wf = await saveWorkflow(a.store, { name: 'fence', nodes: [{ id: 'x', type: 'tool_call', tool: 'slow' }] });
      // Bring A's clock to the present once, so the lease it takes is a real 800 ms lease.
      await frozen.advance(Date.now() - frozen.now());
      const { runId } = await a.engine.startRun({ workflowId: wf, version: 1, input: {} });
      const rec = await b.engine.waitForRun(runId);
      expect(rec.status).toBe('succeeded');
      expect(rec.nodes.x!.output).toEqual({ by: 'fresh' });
      expect(rec.nodes.x!.attempts.map((t) => [t.attempt, t.status, t.error?.code])).toEqual([
        [1, 'failed', 'LEASE_EXPIRED'],
        [2, 'succeeded', undefined],
      ]);
      release();
      await sleep(300);
      const after = await b.engine.getRun(runId);
      expect(after!.nodes.x!.output).toEqual({ by: 'fresh' });
      expect(after!.lastSeq).toBe(rec.lastSeq);
      expect(staleRan).toEqual([`${runId}:x:1`]);
      expect(a.engine.hotRuns).toBe(0);
    } finally {
      release();
      await a.close();
      await b.close();
    }
  });

  it('two servers: subscribers on each see every event of a run executed by a worker, in order, without gaps', async () => {
    const url = await pg.createDatabase('fanout');
    const s1 = await pgNode(url, { execute: false });
    const s2 = await pgNode(url, { execute: false });
    const w = await pgNode(url, { tools: { count: counter('w', new Map(), 5) } });
    try {
      const wf = await saveWorkflow(s1.store, fiveNodes('count'));
      const { runId } = await s1.engine.startRun({ workflowId: wf, version: 1, input: {} });
      const seen = [s1, s2, s2].map(
        (s, i) =>
          new Promise<number[]>((resolve) => {
            const got: number[] = [];
            s.engine.subscribe(runId, { after: i === 2 ? 3 : 0, onEvent: (e) => got.push(e.seq), onEnd: () => resolve(got) });
          }),
      );
      const [g1, g2, g3] = await Promise.all(seen);
      const total = (await w.engine.listEvents(runId, 0)).length;
      expect(total).toBeGreaterThan(10);
      expect(g1).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      expect(g2).toEqual(g1);
      expect(g3).toEqual(g1?.slice(3));
    } finally {
      await w.close();
      await s1.close();
      await s2.close();
    }
  });

  it('a gate decided and a run cancelled through a server that does not hold the run', async () => {
    const url = await pg.createDatabase('decide');
    const server = await pgNode(url, { execute: false });
    const w = await pgNode(url, { tools: { count: counter('w', new Map()) } });
    try {
      const wf = await saveWorkflow(server.store, {
        name: 'gate',
        nodes: [
          { id: 'g', type: 'human_gate', prompt: 'go?' },
          { id: 'after', type: 'tool_call', tool: 'count' },
        ],
        edges: [{ from: 'g', to: 'after' }],
      });
      const { runId } = await server.engine.startRun({ workflowId: wf, version: 1, input: {} });
      const waiting = await server.engine.waitForRun(runId, { orWaiting: true });
      expect(waiting.status).toBe('waiting');
      const [x, y] = await Promise.all([
        server.engine.decideGate(runId, 'g', { approved: true, by: 'alice' }),
        w.engine.decideGate(runId, 'g', { approved: false, by: 'bob' }),
      ]);
      expect([x.ok, y.ok].sort()).toEqual([false, true]);
      const done = await server.engine.waitForRun(runId);
      expect(['succeeded', 'failed']).toContain(done.status);

      const { runId: r2 } = await server.engine.startRun({ workflowId: wf, version: 1, input: {} });
      await server.engine.waitForRun(r2, { orWaiting: true });
      await server.engine.cancelRun(r2, 'changed my mind');
      const c = await server.engine.waitForRun(r2);
      expect(c.status).toBe('cancelled');
    } finally {
      await w.close();
      await server.close();
    }
  });

  it('survives a PostgreSQL restart mid-run: nothing lost, no committed success executed again', async () => {
    const url = await pg.createDatabase('restart');
    const log = new Map<string, string[]>();
    const w = await pgNode(url, { leaseMs: 1000, tools: { slow: counter('w', log, 150) } });
    try {
      const nodes = Array.from({ length: 8 }, (_, i) => ({ id: `n${i}`, type: 'tool_call' as const, tool: 'slow' }));
      const wf = await saveWorkflow(w.store, {
        name: 'restart',
        nodes,
        edges: nodes.slice(1).map((n, i) => ({ from: `n${i}`, to: n.id })),
      });
      const { runId } = await w.engine.startRun({ workflowId: wf, version: 1, input: {} });
      await sleep(400);
      await pg.restart({ downMs: 500 });
      let rec = await w.engine.getRun(runId).catch(() => undefined);
      for (let i = 0; i < 200 && rec?.status !== 'succeeded'; i++) {
        await sleep(100);
        rec = await w.engine.getRun(runId).catch(() => undefined);
      }
      expect(rec?.status).toBe('succeeded');
      for (const n of nodes) {
        const attempts = rec!.nodes[n.id]!.attempts;
        const executed = [...log.keys()].filter((k) => k.startsWith(`${runId}:${n.id}:`)).length;
        // Every execution is an attempt on record (an attempt claimed just before a failure may
        // never have run), and the attempt that succeeded ran exactly once.
        expect(executed, n.id).toBeLessThanOrEqual(attempts.length);
        const won = attempts.filter((a) => a.status === 'succeeded');
        expect(won).toHaveLength(1);
        expect(log.get(`${runId}:${n.id}:${won[0]!.attempt}`)).toHaveLength(1);
      }
      const seqs = (await w.engine.listEvents(runId, 0)).map((e) => e.seq);
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    } finally {
      await w.close();
    }
  });

  it('SIGKILL a worker mid-attempt and mid-commit: another worker reclaims its runs and finishes them', async () => {
    for (const scenario of ['mid-attempt', 'mid-commit']) {
      const url = await pg.createDatabase(scenario.replace('-', '_'));
      const dir = mkdtempSync(join(tmpdir(), 'trellis-pgkill-'));
      const logPath = join(dir, 'exec.log');
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'pg-worker-child.ts'), url, logPath, scenario],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => {
        out += d;
      });
      child.stderr.on('data', (d) => {
        err += d;
      });
      const signal = await new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, s) => r(s)));
      expect(signal, err).toBe('SIGKILL');
      const runId = out.trim().split('\n')[0]!;
      const log = new Map<string, string[]>();
      const w = await pgNode(url, { leaseMs: 1000, tools: { step: counter('survivor', log) } });
      try {
        const rec = await w.engine.waitForRun(runId);
        expect(rec.status).toBe('succeeded');
        const childExecs = readFileSync(logPath, 'utf8')
          .trim()
          .split('\n')
          .map((l) => l.split(' ').slice(1, 3).join(':'));
        for (const n of ['a', 'b', 'c']) {
          const mine = [...log.keys()].filter((k) => k.startsWith(`${runId}:${n}:`)).map((k) => k.slice(runId.length + 1));
          const all = [...childExecs.filter((x) => x.startsWith(`${n}:`)), ...mine];
          // No attempt ran twice; nothing ran after the node's success committed.
          expect(new Set(all).size, `${scenario} ${n}`).toBe(all.length);
          expect(all.length, `${scenario} ${n}`).toBeLessThanOrEqual(rec.nodes[n]!.attempts.length);
          const won = rec.nodes[n]!.attempts.filter((a) => a.status === 'succeeded');
          expect(won).toHaveLength(1);
          expect(all).toContain(`${n}:${won[0]!.attempt}`);
        }
        expect(rec.nodes.a!.attempts).toHaveLength(1);
        const seqs = (await w.engine.listEvents(runId, 0)).map((e) => e.seq);
        expect(seqs).toEqual(seqs.map((_, i) => i + 1));
      } finally {
        await w.close();
      }
    }
  }, 120_000); // spawns worker processes through the TypeScript loader: slow on a busy machine
});

export { TrellisError };
