/**
 * The expression sandbox (worker-thread pool): hostile expressions fail only themselves, with a
 * message naming the limit they hit, and the pool goes on serving; the main thread stays free.
 */
import { type ExpressionEvaluator, inProcessEvaluator, TrellisError } from '@trellis/core';
import { afterAll, describe, expect, it } from 'vitest';
import { ExpressionPool } from '../src/sandbox/pool.ts';
import { harness } from './harness.ts';

const pool = new ExpressionPool({ workers: 2, timeoutMs: 400, graceMs: 100, heapMb: 64 });
afterAll(() => pool.close());

async function failure(source: string, scope: Record<string, unknown> = {}): Promise<TrellisError> {
  const err = await pool.evaluate([{ source, scope }]).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TrellisError);
  return err as TrellisError;
}

/** Proves the main thread ran other work while the expression was being evaluated. */
async function mainThreadFreeDuring(p: Promise<unknown>): Promise<number> {
  let ticks = 0;
  let done = false;
  const settled = p.finally(() => {
    done = true;
  });
  settled.catch(() => {});
  while (!done) {
    await new Promise((r) => setTimeout(r, 10));
    ticks++;
  }
  return ticks;
}

async function stillServes(): Promise<void> {
  expect(await pool.evaluate([{ source: '$a + 1', scope: { a: 41 } }])).toEqual([42]);
}

describe('expression sandbox', () => {
  it('evaluates like the in-process evaluator, one job for several expressions', async () => {
    const scope = {
      context: { q: 'x' },
      s: {
        hotels: [
          { n: 'a', p: 3 },
          { n: 'b', p: 9 },
        ],
      },
    };
    const sources = [
      "$count($s.hotels[p > 2]) & ' ' & $context.q",
      '$s.hotels.n',
      '$s.hotels[0]',
      '$context.q',
      '$context.missing',
      "{ 'k': $s.hotels[p < 5].n }",
      '$now() != ""',
    ];
    const requests = sources.map((source) => ({ source, scope }));
    expect(await pool.evaluate(requests)).toEqual(await inProcessEvaluator.evaluate(requests));
  });

  it('reports evaluation errors as EXPRESSION_ERROR with the source', async () => {
    const err = await failure('$number("x") + $undefinedFn()');
    expect(err.code).toBe('EXPRESSION_ERROR');
    expect(err.message).toContain('$undefinedFn');
  });

  it('stops $length($pad("x", 140000000)) (a fatal "invalid size" error on the main thread) with a clear message', async () => {
    const err = await failure('$length($pad("x", 140000000))');
    expect(err.code).toBe('EXPRESSION_ERROR');
    expect(err.message).toMatch(/string of 140000000 characters, over the sandbox's limit of 5000000/);
    await stillServes();
  });

  it("stops $count($split($pad('x', 140000000), ''))", async () => {
    const err = await failure("$count($split($pad('x', 140000000), ''))");
    expect(err.code).toBe('EXPRESSION_ERROR');
    expect(err.message).toMatch(/over the sandbox's limit/);
    await stillServes();
  });

  it('caps strings built step by step (doubling by concatenation)', async () => {
    const err = await failure('($f := function($s, $n) { $n = 0 ? $s : $f($s & $s, $n - 1) }; $length($f("x", 40)))');
    expect(err.message).toMatch(/string of \d+ characters, over the sandbox's limit/);
    await stillServes();
  });

  it('terminates catastrophic regex backtracking at the deadline, the main thread staying free', async () => {
    const p = pool.evaluate([{ source: "$contains('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!', /^(a+)+$/)", scope: {} }]);
    const ticks = await mainThreadFreeDuring(p);
    const err = await p.then(
      () => undefined,
      (e: unknown) => e as TrellisError,
    );
    expect(err?.code).toBe('EXPRESSION_ERROR');
    expect(err?.message).toMatch(
      /ran longer than the sandbox's limit of 400 ms and was stopped \(TRELLIS_EXPRESSION_TIMEOUT_MS\)/,
    );
    expect(ticks).toBeGreaterThan(5);
    await stillServes();
  });

  it('stops a runaway loop', async () => {
    const err = await failure('($loop := function($n) { $n > 0 ? $loop($n) : 0 }; $loop(1))');
    // Depth, the soft deadline, the hard deadline or the stack: whichever a loaded machine hits first.
    expect(err.message).toMatch(/limit/);
    await stillServes();
  });

  it('stops a huge $map at its array cap or the memory limit', async () => {
    const err = await failure('$map([1..5000000], function($v) { $v * 2 })');
    expect(err.message).toMatch(/limit/);
    await stillServes();
  });

  it('stops an expression holding more than half the heap, and the other jobs go on', async () => {
    // A generous deadline, so that on a loaded machine the memory check is what stops it.
    const roomy = new ExpressionPool({ workers: 2, timeoutMs: 20_000, heapMb: 64 });
    try {
      // Distinct 4 MB strings kept in one array: each under the string cap, together over 32 MB.
      const hog = "$count($map([1..40], function($i) { $uppercase($pad('', 4000000) & $i) }))";
      const ok = roomy.evaluate([{ source: '$sum([1..1000])', scope: {} }]);
      const err = await roomy.evaluate([{ source: hog, scope: {} }]).catch((e: unknown) => e as TrellisError);
      expect(err).toBeInstanceOf(TrellisError);
      expect((err as TrellisError).message).toMatch(/held \d+ MB of memory, over half the sandbox's heap limit of 64 MB/);
      expect(await ok).toEqual([500500]);
      expect(await roomy.evaluate([{ source: '$a + 1', scope: { a: 1 } }])).toEqual([2]);
    } finally {
      await roomy.close();
    }
  });

  it('refuses results over the result cap inside the worker', async () => {
    const small = new ExpressionPool({ workers: 1, maxResultBytes: 1000 });
    try {
      const err = await small.evaluate([{ source: "$pad('', 5000, 'x')", scope: {} }]).catch((e: unknown) => e as TrellisError);
      expect(err).toBeInstanceOf(TrellisError);
      expect((err as TrellisError).message).toMatch(/larger than the sandbox's limit of 1000 bytes/);
    } finally {
      await small.close();
    }
  });

  it('answers plain references through objects on the main thread', async () => {
    const before = pool.stats().direct;
    expect(await pool.evaluate([{ source: '$a.b.c', scope: { a: { b: { c: 5 } } } }])).toEqual([5]);
    expect(pool.stats().direct).toBe(before + 1);
    // Through an array JSONata maps: that goes to a worker and still means what JSONata says.
    expect(await pool.evaluate([{ source: '$a.b', scope: { a: [{ b: 1 }, { b: 2 }] } }])).toEqual([[1, 2]]);
    expect(pool.stats().direct).toBe(before + 1);
  });
});

describe('the engine evaluates through its evaluator, one message per node', () => {
  it('sends a node its bindings in one request and the run output only the outputs it reads', async () => {
    const calls: { source: string; variables: string[] }[][] = [];
    const recording: ExpressionEvaluator = {
      evaluate(requests) {
        calls.push(requests.map((r) => ({ source: r.source, variables: Object.keys(r.scope).sort() })));
        return pool.evaluate(requests);
      },
    };
    const h = await harness({ engine: { expressions: recording } });
    try {
      const wf = await h.save({
        name: 'batched',
        nodes: [
          { id: 'a', type: 'transform', expression: "{ 'n': 2 }" },
          { id: 'big', type: 'transform', expression: "{ 'blob': $pad('', 1000, 'x') }" },
          {
            id: 'b',
            type: 'parallel',
            input: { x: '{{ $a.n + 1 }}', y: 'n is {{ $a.n }} of {{ $count($context.items) }}', z: '$a.n' },
          },
        ],
        edges: [
          { from: 'a', to: 'big' },
          { from: 'big', to: 'b', condition: '$big.blob != ""' },
        ],
        output: { summary: '{{ $b.y }}', n: '$a.n' },
      });
      const rec = await h.run(wf, { items: [1, 2, 3] });
      expect(rec.status).toBe('succeeded');
      expect(rec.nodes.b!.output).toEqual({ x: 3, y: 'n is 2 of 3', z: 2 });
      expect(rec.output).toEqual({ summary: 'n is 2 of 3', n: 2 });
      // b's three template expressions travel together, in one request list.
      const bCall = calls.find((c) => c.some((r) => r.source === '$a.n + 1'));
      expect(bCall?.map((r) => r.source)).toEqual(['$a.n + 1', '$a.n', '$count($context.items)']);
      // The run output's template gets only the outputs its bindings read (not 'big').
      const outCall = calls.find((c) => c.some((r) => r.source === '$b.y'));
      expect(outCall?.[0]?.variables).toEqual(['a', 'b', 'context']);
    } finally {
      await h.close();
    }
  });
});

describe('fairness', () => {
  it("serves runs in turn: one run's runaway expressions do not make another run wait behind all of them", async () => {
    const one = new ExpressionPool({ workers: 1, timeoutMs: 200, graceMs: 50 });
    try {
      const settled: string[] = [];
      const track = (name: string, p: Promise<unknown>) =>
        p.then(
          () => settled.push(name),
          () => settled.push(name),
        );
      const regex = "$contains('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!', /^(a+)+$/)";
      const all = [1, 2, 3, 4].map((i) => track(`bad${i}`, one.evaluate([{ source: regex, scope: {} }], { key: 'bad' })));
      all.push(track('good', one.evaluate([{ source: '1 + 1', scope: {} }], { key: 'good' })));
      await Promise.all(all);
      expect(settled.indexOf('good')).toBeLessThanOrEqual(1);
    } finally {
      await one.close();
    }
  });
});

describe('pool size', () => {
  it('starts one worker for one job at a time, more only when jobs wait, and retires the extra ones when idle', async () => {
    const p = new ExpressionPool({ workers: 3 }, { retireIdleMs: 300 });
    try {
      expect(p.stats().workers).toBe(0);
      for (let i = 0; i < 20; i++) expect(await p.evaluate([{ source: '$a * 2', scope: { a: i } }])).toEqual([i * 2]);
      expect(p.stats()).toMatchObject({ workers: 1, spawned: 1 });
      // A burst: jobs wait behind the busy worker, so the pool grows to its size.
      const burst = await Promise.all(
        Array.from({ length: 30 }, (_, i) => p.evaluate([{ source: '$a + 1', scope: { a: i } }], { key: `r${i}` })),
      );
      expect(burst).toEqual(Array.from({ length: 30 }, (_, i) => [i + 1]));
      expect(p.stats()).toMatchObject({ workers: 3, spawned: 3 });
      // Idle past retireIdleMs: back to one worker, which still serves.
      await expect.poll(() => p.stats().workers, { timeout: 5000, interval: 50 }).toBe(1);
      expect(p.stats().retired).toBe(2);
      expect(await p.evaluate([{ source: '$a - 1', scope: { a: 1 } }])).toEqual([0]);
      expect(p.stats().spawned).toBe(3);
    } finally {
      await p.close();
    }
  });

  it('stops its last worker once it has had no work for lastWorkerIdleMs, and starts one again for the next job', async () => {
    const p = new ExpressionPool({ workers: 2 }, { retireIdleMs: 100, lastWorkerIdleMs: 400 });
    try {
      expect(await p.evaluate([{ source: '$a * 2', scope: { a: 2 } }])).toEqual([4]);
      expect(p.stats()).toMatchObject({ workers: 1, spawned: 1, retired: 0 });
      await expect.poll(() => p.stats().workers, { timeout: 5000, interval: 50 }).toBe(0);
      expect(p.stats().retired).toBe(1);
      // The next expression pays a worker start, and is answered.
      expect(await p.evaluate([{ source: '$a * 3', scope: { a: 2 } }])).toEqual([6]);
      expect(p.stats()).toMatchObject({ workers: 1, spawned: 2 });
    } finally {
      await p.close();
    }
  });

  it('keeps one worker for good with lastWorkerIdleMs: Infinity', async () => {
    const p = new ExpressionPool({ workers: 1 }, { retireIdleMs: 100, lastWorkerIdleMs: Number.POSITIVE_INFINITY });
    try {
      expect(await p.evaluate([{ source: '$a * 2', scope: { a: 2 } }])).toEqual([4]);
      await new Promise((r) => setTimeout(r, 500));
      expect(p.stats()).toMatchObject({ workers: 1, retired: 0 });
    } finally {
      await p.close();
    }
  });
});
