/**
 * `trellis worker --db postgres://…` (SPEC §3): a worker process without HTTP. It claims runs
 * from the shared PostgreSQL database, executes them, and hands them back on shutdown.
 */
import { parseArgs } from 'node:util';
import { createTrellis, type Trellis } from '@trellis/connectors';
import { TrellisError, toErrorInfo } from '@trellis/core';
import { type EngineLogger, type SecretSource, TriggerScheduler, vaultSecretSource } from '@trellis/runtime';
import { isPostgresUrl, openStore, SecretVault, secretKeySource } from '@trellis/store';

export const WORKER_HELP = `Usage: trellis worker --db postgres://USER:PASSWORD@HOST:PORT/DB [options]

Runs workflow runs from a shared PostgreSQL database, without serving HTTP. Start as many
workers (and \`trellis serve\` instances) as you like on the same database: each run is
claimed by one worker at a time, held by a lease renewed by heartbeat, and reclaimed by
another worker if its holder dies.

Options:
  --db URL          the PostgreSQL database (default: $TRELLIS_DB)
  --lease-ms N      lease length; a dead worker's runs are taken over after at most
                    this plus one second (default 15000)
  --max-runs N      runs held at once at most (default 1000)
  --grace-ms N      on SIGTERM/SIGINT, how long running attempts may finish (default 10000)
  -h, --help        show this help

Logs are JSON lines on stdout.`;

export async function worker(argv: string[]): Promise<number> {
  let values: { db?: string; 'lease-ms'?: string; 'max-runs'?: string; 'grace-ms'?: string; help?: boolean };
  try {
    values = parseArgs({
      args: argv,
      options: {
        db: { type: 'string' },
        'lease-ms': { type: 'string' },
        'max-runs': { type: 'string' },
        'grace-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    return usage((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${WORKER_HELP}\n`);
    return 0;
  }
  const target = values.db ?? process.env.TRELLIS_DB;
  if (!target) return usage('missing --db (or TRELLIS_DB)');
  if (!isPostgresUrl(target)) {
    return usage(
      'a worker shares a PostgreSQL database with other processes; with SQLite, `trellis serve` runs everything itself',
    );
  }
  const num = (name: 'lease-ms' | 'max-runs' | 'grace-ms', dflt: number, min: number) => {
    const raw = values[name];
    if (raw === undefined) return dflt;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number ≥ ${min}`);
    return n;
  };
  let leaseMs: number;
  let maxRuns: number;
  let graceMs: number;
  try {
    leaseMs = num('lease-ms', 15_000, 1000);
    maxRuns = num('max-runs', 1000, 1);
    graceMs = num('grace-ms', 10_000, 0);
  } catch (err) {
    return usage((err as Error).message);
  }

  const log = (level: string, msg: string, data?: Record<string, unknown>) =>
    process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...data })}\n`);
  const logger: EngineLogger = {
    info: (m, d) => log('info', m, d),
    warn: (m, d) => log('warn', m, d),
    error: (m, d) => log('error', m, d),
  };
  let store: Awaited<ReturnType<typeof openStore>>;
  let secrets: SecretSource;
  try {
    store = await openStore(target);
    try {
      // The same TRELLIS_SECRET_KEY as the servers; a wrong one stops the start here.
      secrets = vaultSecretSource(await SecretVault.open(store.db, secretKeySource(target, process.env)), store.db);
    } catch (err) {
      await store.close();
      throw err;
    }
  } catch (err) {
    process.stderr.write(`trellis worker: ${err instanceof TrellisError ? err.message : toErrorInfo(err).message}\n`);
    return 2;
  }
  let trellis: Trellis;
  try {
    trellis = await createTrellis({ db: store, secrets, logger, leasing: { leaseMs, maxRuns } });
  } catch (err) {
    await store.close();
    process.stderr.write(`trellis worker: ${toErrorInfo(err).message}\n`);
    return 2;
  }
  const { engine } = trellis;
  // Workers fire schedules too: each tick starts exactly one run, whichever process gets there first.
  const triggers = new TriggerScheduler({ db: store.handle, engine, logger });
  triggers.start();
  log('info', 'worker started', { leaseMs, maxRuns });
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log('info', 'stopping: running attempts may finish, then their runs are handed back', { signal, graceMs });
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await triggers.stop();
  await trellis.close(graceMs);
  await store.close();
  log('info', 'worker stopped');
  return 0;
}

function usage(message: string): number {
  process.stderr.write(`trellis worker: ${message}\n\n${WORKER_HELP}\n`);
  return 2;
}
