/**
 * Poison-run quarantine in the scheduler: a node found in flight by `maxRecoveries` recoveries
 * in a row fails with CRASHED instead of running again; clean shutdowns and attempts that end
 * by themselves do not count towards it.
 */
import { describe, expect, it } from 'vitest';
import { decide, type Effect, type PersistedNodeState, rebuildRunState } from '../src/index.ts';
import { mustCompile, t, wf } from './helpers.ts';

const compiled = mustCompile(
  wf(
    [t('a'), { id: 'b', type: 'tool_call', tool: 'x', retry: { maxAttempts: 10 } }, t('c')],
    [
      ['a', 'b'],
      ['b', 'c'],
    ],
  ),
);

function recovered(b: Partial<PersistedNodeState>, onError?: 'continue') {
  const c = onError
    ? mustCompile(
        wf(
          [t('a'), { id: 'b', type: 'tool_call', tool: 'x', onError }, t('c')],
          [
            ['a', 'b'],
            ['b', 'c'],
          ],
        ),
      )
    : compiled;
  const node = (p: Partial<PersistedNodeState>): PersistedNodeState => ({
    status: 'pending',
    attempt: 0,
    output: undefined,
    error: null,
    costUsd: 0,
    taken: null,
    leaseLosses: 0,
    ...p,
  });
  const state = rebuildRunState('r1', c, {
    status: 'running',
    costUsd: 0,
    nodes: [node({ status: 'succeeded', attempt: 1, output: 1, taken: [0] }), node({ status: 'running', ...b }), node({})],
  });
  return state;
}

const patches = (fx: Effect[]) =>
  fx.filter((e) => e.type === 'node.patch' && e.node === 1).map((e) => (e as { patch: unknown }).patch);

describe('poison-run quarantine', () => {
  it('counts recoveries that find the node in flight and retries it below the limit', () => {
    const state = recovered({ attempt: 2, recoveries: 1 });
    const fx = decide(state, { type: 'recover', maxRecoveries: 3 }, 0);
    expect(patches(fx)).toContainEqual({ recoveries: 2 });
    expect(fx).toContainEqual({ type: 'attempt.start', node: 1, attempt: 3 });
    expect(state.status).toBe('running');
  });

  it('fails the node with CRASHED at the limit, and the run with it', () => {
    const state = recovered({ attempt: 3, recoveries: 2 });
    const fx = decide(state, { type: 'recover', maxRecoveries: 3 }, 0);
    expect(fx.some((e) => e.type === 'attempt.start')).toBe(false);
    const finish = fx.find((e) => e.type === 'attempt.finish');
    expect(finish).toMatchObject({ node: 1, attempt: 3, status: 'failed', error: { code: 'CRASHED' } });
    expect((finish as { error: { message: string } }).error.message).toMatch(
      /stopped 3 times in a row while this node was running/,
    );
    expect(state.nodes[1]!.status).toBe('failed');
    expect(state.status).toBe('failed');
    expect(state.error?.code).toBe('CRASHED');
  });

  it('with onError continue, the quarantined node fails and the run goes on', () => {
    const state = recovered({ attempt: 3, recoveries: 2 }, 'continue');
    const fx = decide(state, { type: 'recover', maxRecoveries: 3 }, 0);
    expect(state.nodes[1]!.status).toBe('failed');
    expect(state.nodes[1]!.output).toEqual({ error: { code: 'CRASHED', message: expect.any(String) } });
    expect(fx).toContainEqual({ type: 'attempt.start', node: 2, attempt: 1 });
  });

  it('a clean shutdown does not count', () => {
    const state = recovered({ attempt: 3, recoveries: 2, interrupted: true });
    const fx = decide(state, { type: 'recover', maxRecoveries: 3 }, 0);
    expect(patches(fx)).toContainEqual({ interrupted: false });
    expect(fx).toContainEqual({ type: 'attempt.start', node: 1, attempt: 4 });
    expect(state.nodes[1]!.recoveries).toBe(2);
  });

  it('an attempt that ends by itself starts the count again', () => {
    const state = recovered({ attempt: 2, recoveries: 2 });
    decide(state, { type: 'recover', maxRecoveries: 5 }, 0);
    const fx = decide(
      state,
      { type: 'attempt.failed', node: 1, attempt: 3, error: { code: 'HTTP_503', message: 'busy', retryable: true } },
      0,
    );
    expect(patches(fx)).toContainEqual({ recoveries: 0 });
    expect(state.nodes[1]!.recoveries).toBe(0);
  });
});
