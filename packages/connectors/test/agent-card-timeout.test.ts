import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOutboundGuard, LOOPBACK_ALLOW_HOSTS } from '@trellis/runtime';
import { openSqlite } from '@trellis/store';
import { describe, expect, it } from 'vitest';
import { a2aLimits, createConnectorExecutors, fetchAgentCard } from '../src/index.ts';

describe('agent card fetch', () => {
  it('gives up on a server that accepts the connection but never answers', async () => {
    const server = createServer(() => {});
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      await expect(fetchAgentCard(`http://127.0.0.1:${port}`, fetch, 300)).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('A2A limits', () => {
  it('defaults, environment and options, in that order; a bad value names its variable', () => {
    expect(a2aLimits({}, {})).toEqual({ cardTimeoutMs: 10_000, cancelGraceMs: 2_000, cancelTimeoutMs: 5_000 });
    expect(
      a2aLimits(
        { cancelTimeoutMs: 7 },
        { TRELLIS_A2A_CARD_TIMEOUT_MS: '300', TRELLIS_A2A_CANCEL_GRACE_MS: '50', TRELLIS_A2A_CANCEL_TIMEOUT_MS: '900' },
      ),
    ).toEqual({ cardTimeoutMs: 300, cancelGraceMs: 50, cancelTimeoutMs: 7 });
    expect(() => a2aLimits({}, { TRELLIS_A2A_CARD_TIMEOUT_MS: '10s' })).toThrow(
      /TRELLIS_A2A_CARD_TIMEOUT_MS must be a whole number/,
    );
  });

  it('TRELLIS_A2A_CARD_TIMEOUT_MS bounds the card fetch of a registration (the default is 10 s)', async () => {
    const server = createServer(() => {});
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const dir = mkdtempSync(join(tmpdir(), 'trellis-card-timeout-'));
    const store = await openSqlite(join(dir, 't.db'));
    const guard = createOutboundGuard({ allowHosts: LOOPBACK_ALLOW_HOSTS });
    const c = createConnectorExecutors({ db: store.db, guard, env: { TRELLIS_A2A_CARD_TIMEOUT_MS: '300' } });
    try {
      // Well inside the test's 5 s: the 10 s default would time the test out instead.
      await expect(c.agents.register({ url: `http://127.0.0.1:${port}/agent`, createdBy: 't' })).rejects.toMatchObject({
        code: 'NETWORK_ERROR',
      });
    } finally {
      await c.close();
      server.closeAllConnections();
      server.close();
      await store.close();
      await guard.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
