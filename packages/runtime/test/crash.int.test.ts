/**
 * Durability: a worker is SIGKILLed at chosen points of a run, started again, and must finish
 * the run with no succeeded node executed twice and an event log without gaps.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunRecord } from '@trellis/core';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

const child = join(import.meta.dirname, 'fixtures', 'crash-child.ts');

function phase(db: string, log: string, scenario: string, which: 'start' | 'resume') {
  return spawnSync(process.execPath, ['--import', 'tsx', child, db, log, scenario, which], { encoding: 'utf8', timeout: 60_000 });
}

function execs(log: string): { node: string; attempt: number; at: number }[] {
  return readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('exec '))
    .map((l) => {
      const [, node, attempt, at] = l.split(' ');
      return { node: node!, attempt: Number(attempt), at: Number(at) };
    });
}

function crashAndResume(scenario: string) {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-crash-'));
  const db = join(dir, 'trellis.db');
  const log = join(dir, 'exec.log');
  const first = phase(db, log, scenario, 'start');
  expect(first.signal, first.stderr).toBe('SIGKILL');
  const second = phase(db, log, scenario, 'resume');
  expect(second.status, second.stderr).toBe(0);
  const rec = JSON.parse(second.stdout.trim().split('\n').pop()!) as RunRecord;
  const raw = new BetterSqlite3(db, { readonly: true });
  const seqs = raw.prepare('select seq from events where run_id = ? order by seq').pluck().all(rec.id) as number[];
  raw.close();
  return { rec, execs: execs(log), seqs, db, log };
}

function expectGapless(seqs: number[]) {
  expect(seqs.length).toBeGreaterThan(3);
  expect(seqs).toEqual(seqs.map((_, i) => i + 1));
}

describe('crash recovery (SIGKILL)', { timeout: 120_000 }, () => {
  it('mid-attempt: the running node runs again as a new attempt; finished nodes do not', () => {
    const { rec, execs: ex, seqs } = crashAndResume('mid-attempt');
    expect(rec.status).toBe('succeeded');
    expect(ex.filter((e) => e.node === 'a')).toHaveLength(1);
    expect(ex.filter((e) => e.node === 'b').map((e) => e.attempt)).toEqual([1, 2]);
    expect(ex.filter((e) => e.node === 'c')).toHaveLength(1);
    expect(rec.nodes.b!.attempts.map((a) => [a.attempt, a.status, a.error?.code])).toEqual([
      [1, 'failed', 'LEASE_EXPIRED'],
      [2, 'succeeded', undefined],
    ]);
    expectGapless(seqs);
  });

  it('mid-commit: a transaction cut in half leaves nothing, and the run completes', () => {
    const { rec, execs: ex, seqs } = crashAndResume('mid-commit');
    expect(rec.status).toBe('succeeded');
    expect(ex.filter((e) => e.node === 'a')).toHaveLength(1);
    // b's result was never committed, so b runs again (at-least-once); c runs once.
    expect(ex.filter((e) => e.node === 'b')).toHaveLength(2);
    expect(ex.filter((e) => e.node === 'c')).toHaveLength(1);
    expectGapless(seqs);
  });

  it('during a backoff wait: the stored schedule is kept across the restart', () => {
    const { rec, execs: ex, seqs } = crashAndResume('backoff');
    expect(rec.status).toBe('succeeded');
    const b = ex.filter((e) => e.node === 'b');
    expect(b.map((e) => e.attempt)).toEqual([1, 2]);
    expect(b[1]!.at - b[0]!.at).toBeGreaterThanOrEqual(600); // not retried early despite the restart
    expect(ex.filter((e) => e.node === 'a')).toHaveLength(1);
    expectGapless(seqs);
  });

  it('mid-map: finished items are kept and never executed again; items in flight run again', () => {
    const { rec, execs: ex, seqs, log } = crashAndResume('map');
    expect(rec.status).toBe('succeeded');
    const committed = (/committed ([\d,]+)/.exec(readFileSync(log, 'utf8'))?.[1] ?? '').split(',').map(Number);
    expect(committed.length).toBeGreaterThanOrEqual(8);
    const per = (i: number) => ex.filter((e) => e.node === `per[${i}]`);
    for (const i of committed) expect(per(i)).toHaveLength(1);
    for (let i = 0; i < 20; i++) {
      const runs = per(i);
      expect(runs.length).toBeGreaterThanOrEqual(1);
      // An item executed twice was in flight at the crash: its first attempt was lost with the worker.
      if (runs.length > 1) expect(rec.nodes.per!.items![String(i)]!.attempts[0]!.error?.code).toBe('LEASE_EXPIRED');
    }
    expect(ex.filter((e) => e.node.startsWith('per[')).length).toBeLessThanOrEqual(20 + 4);
    expect(rec.nodes.per!.output).toMatchObject({ items: Array.from({ length: 20 }, (_, n) => ({ node: 'per', input: { n } })) });
    expect(ex.filter((e) => e.node === 'a')).toHaveLength(1);
    expectGapless(seqs);
  });

  it('while a child workflow runs: the parent re-attaches to the same child run, which completes', () => {
    const { rec, execs: ex, seqs, db } = crashAndResume('child');
    expect(rec.status).toBe('succeeded');
    const raw = new BetterSqlite3(db, { readonly: true });
    const children = raw.prepare('select id, status from runs where parent_run_id = ?').all(rec.id) as {
      id: string;
      status: string;
    }[];
    raw.close();
    expect(children).toEqual([{ id: rec.nodes.sub!.childRunId, status: 'succeeded' }]);
    expect(rec.nodes.sub!.output).toMatchObject({ inner: 'inner', _run: children[0]!.id });
    expect(ex.filter((e) => e.node === 'a')).toHaveLength(1);
    expect(ex.filter((e) => e.node === 'inner').map((e) => e.attempt)).toEqual([1, 2]);
    expect(ex.filter((e) => e.node === 'c')).toHaveLength(1);
    expectGapless(seqs);
  });

  it('while a gate waits: the decision after the restart completes the run', () => {
    const { rec, execs: ex, seqs } = crashAndResume('gate');
    expect(rec.status).toBe('succeeded');
    expect(rec.nodes.g!.output).toMatchObject({ approved: true, by: 'tester' });
    for (const n of ['a', 'b', 'c']) expect(ex.filter((e) => e.node === n)).toHaveLength(1);
    expectGapless(seqs);
  });

  it('a retry killed mid-way resumes without executing the nodes it reused', () => {
    const { rec, execs: ex, seqs } = crashAndResume('retry');
    expect(rec.status).toBe('succeeded');
    expect(rec.retryOf).toEqual(expect.any(String));
    // a and b ran once, in the original run; the retry reused them, before and after the crash.
    expect(ex.filter((e) => e.node === 'a')).toHaveLength(1);
    expect(ex.filter((e) => e.node === 'b')).toHaveLength(1);
    expect(rec.nodes.a!.reusedFrom).toBe(rec.retryOf);
    expect(rec.nodes.b!.reusedFrom).toBe(rec.retryOf);
    // c: failed in the original, killed in the retry's first attempt, succeeded in its second.
    expect(ex.filter((e) => e.node === 'c').map((e) => e.attempt)).toEqual([1, 1, 2]);
    expect(rec.nodes.c!.attempts.map((a) => [a.attempt, a.status, a.error?.code])).toEqual([
      [1, 'failed', 'LEASE_EXPIRED'],
      [2, 'succeeded', undefined],
    ]);
    expectGapless(seqs);
  });
});
