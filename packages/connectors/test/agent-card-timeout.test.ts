import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { fetchAgentCard } from '../src/index.ts';

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
