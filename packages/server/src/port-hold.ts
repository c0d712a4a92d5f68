/**
 * Holds the HTTP port from the very start of `trellis serve`, before the database is opened,
 * migrated or recovered and before any demo service is registered: a second start on a taken
 * port fails at once and changes nothing. The hold is released right before the HTTP server
 * listens on the same port (the window between the two is a few microseconds of one tick).
 */
import { createServer } from 'node:net';

export interface PortHold {
  release(): Promise<void>;
}

/** Binds host:port (nothing to hold for port 0, which picks a free port at listen time). */
export async function holdPort(host: string, port: number): Promise<PortHold> {
  if (port === 0) return { release: async () => {} };
  const server = createServer();
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  let released: Promise<void> | undefined;
  return {
    release: () => {
      released ??= new Promise<void>((r) => server.close(() => r()));
      return released;
    },
  };
}
