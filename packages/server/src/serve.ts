/**
 * `trellis serve` as a library: holds the port and locks the database (SQLite) before anything
 * else, so a start that cannot succeed changes nothing; then opens the database, makes sure an
 * administrator exists, starts the embedded runner and the HTTP server, seeds built-in
 * templates and — only once the port is served — starts and registers the demo services and
 * seeds the demo workflows. Returns a handle whose `close()` shuts down gracefully:
 *
 * 1. stop taking work — readyz answers 503, new runs are refused with 503 + Retry-After;
 * 2. close live streams with a reason (clients resume with `after`);
 * 3. the engine stops claiming work and gives running attempts `graceMs` to finish; what is
 *    still running stays leased in the database and is resumed by the next start (nothing lost);
 * 4. the HTTP server closes, then the database.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Connectors, createTrellis, type Trellis } from '@trellis/connectors';
import type { ExecutorResolver } from '@trellis/core';
import { type Engine, TriggerScheduler, vaultSecretSource } from '@trellis/runtime';
import {
  ADMIN_PRINCIPAL,
  acquireInstanceLock,
  createSignInCode,
  createWorkflow,
  type Database,
  ensureAdmin,
  openStore,
  readTemplateFiles,
  SecretVault,
  type Store,
  secretKeySource,
  syncTriggers,
  upsertBuiltinTemplates,
} from '@trellis/store';
import type { FastifyServerOptions } from 'fastify';
import type { Kysely } from 'kysely';
import { buildServer, type TrellisServer } from './app.ts';
import { DEMO_PEER, type DemoPeerOutcome, startDemoPeer } from './demo-peer.ts';
import type { Limits } from './http/context.ts';
import { holdPort } from './port-hold.ts';
import { checkDefinition } from './validation.ts';

export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_DB = '.trellis/trellis.db';

export interface ServeOptions {
  /** A SQLite file path or a postgres:// URL. */
  db: string;
  host: string;
  port: number;
  demo: boolean;
  /** TRELLIS_ADMIN_TOKEN: the first-start admin token, instead of a generated one. */
  adminToken?: string | undefined;
  logger?: FastifyServerOptions['logger'];
  /** How long running attempts get to finish on shutdown (default 10 s). */
  graceMs?: number;
  limits?: Partial<Limits>;
  /** The console's built files, served at `/` (the `trellis` command passes @trellis/console's build). */
  consoleDir?: string | false | undefined;
  /** A folder of example workflows (`*.json`) upserted as built-in templates; none when absent. */
  examplesDir?: string | undefined;
  /** --demo: the folder of demo workflows saved for the admin on first start (default `<examplesDir>/demo`). */
  demoWorkflowsDir?: string | undefined;
  /** --demo: starts the demo agents and MCP servers on loopback; they are (re-)registered under their names. */
  demoServices?: (() => Promise<DemoServices>) | undefined;
  /** Private or loopback hosts/CIDRs agent and HTTP calls may reach (default TRELLIS_ALLOW_HOSTS); --demo adds loopback. */
  allowHosts?: string[];
  /** Agent and HTTP calls may reach loopback (--demo implies it; the demo's second instance uses it). */
  allowLoopback?: boolean;
  /** /metrics without a token (TRELLIS_METRICS_PUBLIC=1); by default it needs one. */
  publicMetrics?: boolean;
  /** Replaces the default executors (tests register their own tools). */
  executors?: (ctx: { store: Store; allowHosts: readonly string[] }) => ExecutorResolver;
  /**
   * The secrets key (TRELLIS_SECRET_KEY: one key, or `new,old` during a rotation). Default: the
   * environment's, else (SQLite) the key file beside the database. Required with PostgreSQL for
   * secrets to be usable.
   */
  secretKey?: string;
}

export interface RunningServer {
  url: string;
  /** Set only on the first start when the token was generated: print it once. */
  adminToken: string | undefined;
  /**
   * Makes a one-time console sign-in link for the administrator (`<url>/#code=…`: 5 minutes,
   * single use, exchanged by the console for a 12-hour session token). The link holds no token.
   */
  signInLink(): Promise<string>;
  server: TrellisServer;
  engine: Engine;
  store: Store;
  /** --demo: whether the Trellis-to-Trellis demo (an agent_call to a workflow of a second Trellis instance over A2A) is on, or why not. */
  demoPeer?: DemoPeerOutcome;
  close(graceMs?: number): Promise<void>;
}

/** Demo services running on loopback (the `trellis` command starts the examples' agents and MCP server). */
export interface DemoServices {
  /** Secrets to store (global) before registering: the authenticated demo services' token. */
  secrets?: { name: string; value: string; description: string }[];
  /** Agents to register by URL, under these names (the demo workflows use them); `credential` goes in the header the card's security scheme names. */
  agents: { name: string; url: string; credential?: string }[];
  /** MCP servers to register by URL, under these names, with these headers (may hold `{{ $secrets.NAME }}`). */
  toolServers: { name: string; url: string; headers?: Record<string, string> }[];
  close(): Promise<void>;
}

/**
 * --demo: starts the demo A2A agents and MCP server on loopback and (re-)registers them under
 * their names — their ports change at every start, and workflows name agents and tools by name.
 * Returns the function that stops them.
 */
export async function registerDemoServices(
  connectors: Pick<Connectors, 'agents' | 'tools'>,
  vault: SecretVault,
  start: () => Promise<DemoServices>,
): Promise<() => Promise<void>> {
  const services = await start();
  try {
    await registerStartedDemoServices(connectors, vault, services);
  } catch (err) {
    await services.close();
    throw err;
  }
  return () => services.close();
}

/** Registers demo services that already run (their secrets, agents and MCP servers) under their names. */
async function registerStartedDemoServices(
  connectors: Pick<Connectors, 'agents' | 'tools'>,
  vault: SecretVault,
  services: DemoServices,
): Promise<void> {
  // The authenticated demo services' token changes at every start: store it as a secret first.
  if ((services.secrets ?? []).length > 0 && !vault.available)
    throw new Error(
      'the demo services use a bearer token kept as a secret, and secrets are off on this database: set TRELLIS_SECRET_KEY (`trellis secrets generate-key` prints one) and start again',
    );
  for (const s of services.secrets ?? []) {
    await vault.put(s.name, { value: s.value, scope: 'global', description: s.description, by: ADMIN_PRINCIPAL });
  }
  for (const a of services.agents) {
    await connectors.agents.delete(a.name);
    await connectors.agents.register({ url: a.url, name: a.name, credential: a.credential, createdBy: ADMIN_PRINCIPAL });
  }
  for (const t of services.toolServers) {
    await connectors.tools.delete(t.name);
    await connectors.tools.register({ name: t.name, url: t.url, headers: t.headers }, { name: ADMIN_PRINCIPAL, isAdmin: true });
  }
}

/** Upserts the examples that validate as built-in templates; returns the ones skipped and why. */
export async function seedBuiltinTemplates(db: Kysely<Database>, dir: string): Promise<{ file: string; reason: string }[]> {
  const { templates, skipped } = readTemplateFiles(dir, (d) => checkDefinition(d).valid);
  await upsertBuiltinTemplates(db, templates);
  return skipped;
}

/**
 * --demo: saves the example workflows for the admin, once per database — except the booking desk,
 * which lives in the demo's second instance.
 */
async function seedDemoWorkflows(db: Kysely<Database>, dirs: string[]): Promise<number> {
  const done = await db.selectFrom('trellis_meta').select('value').where('key', '=', 'demo_seeded').executeTakeFirst();
  if (done) return 0;
  let n = 0;
  for (const dir of dirs) {
    for (const t of readTemplateFiles(dir, (d) => checkDefinition(d).valid).templates) {
      if (t.name === DEMO_PEER.workflow) continue;
      const { id, version } = await createWorkflow(db, {
        name: t.name,
        description: t.description,
        definition: t.definition,
        owner: ADMIN_PRINCIPAL,
      });
      const check = checkDefinition(t.definition);
      const triggers = check.valid ? check.definition.triggers : undefined;
      if (triggers) await syncTriggers(db, id, version, triggers, Date.now());
      n++;
    }
  }
  await db.insertInto('trellis_meta').values({ key: 'demo_seeded', value: new Date().toISOString() }).execute();
  return n;
}

export async function startTrellisServer(options: ServeOptions): Promise<RunningServer> {
  // Nothing may change before these two succeed: a second start on a taken port or on a database
  // another server holds fails here, leaving that server, its database and its demo untouched.
  const port = await holdPort(options.host, options.port);
  let lock: ReturnType<typeof acquireInstanceLock>;
  let store: Store;
  try {
    lock = acquireInstanceLock(options.db, `trellis serve (${options.host}:${options.port})`);
    try {
      store = await openStore(options.db);
    } catch (err) {
      lock.release();
      throw err;
    }
  } catch (err) {
    await port.release();
    throw err;
  }
  let trellis: Trellis | undefined;
  let stopDemo: (() => Promise<void>) | undefined;
  let http: TrellisServer | undefined;
  let stopTriggers: (() => Promise<void>) | undefined;
  let demoPeer: DemoPeerOutcome | undefined;
  let stopPeer: (() => Promise<void>) | undefined;
  try {
    const admin = await ensureAdmin(store.db, options.adminToken);
    // A wrong secrets key stops the start here, with a message saying so (never garbage later).
    const vault = await SecretVault.open(
      store.db,
      secretKeySource(options.db, options.secretKey !== undefined ? { TRELLIS_SECRET_KEY: options.secretKey } : process.env),
    );
    // The engine starts (and may resume runs) before the HTTP server and its logger exist: its
    // messages go to the server's structured log once there is one.
    let log:
      | { info(o: object, m: string): void; warn(o: object, m: string): void; error(o: object, m: string): void }
      | undefined;
    const { executors } = options;
    // On PostgreSQL several servers and workers share the runs: createTrellis claims, leases, fences.
    trellis = await createTrellis({
      db: store,
      // Unfinished runs resume once the port is open (startRecovery below), never delaying it.
      recover: 'deferred',
      ...(options.allowHosts ? { allowHosts: options.allowHosts } : {}),
      allowLoopback: options.demo || options.allowLoopback === true,
      secrets: vaultSecretSource(vault, store.db),
      ...(executors ? { executors: (ctx) => executors({ store: ctx.store, allowHosts: ctx.allowHosts }) } : {}),
      logger: {
        info: (msg, data) => log?.info({ engine: true, ...data }, msg),
        warn: (msg, data) => log?.warn({ engine: true, ...data }, msg),
        error: (msg, data) =>
          log
            ? log.error({ engine: true, ...data }, msg)
            : process.stderr.write(`trellis: ${msg} ${JSON.stringify(data ?? {})}\n`),
      },
    });
    const wired = trellis;
    const runner = trellis.engine;

    const { examplesDir } = options;
    if (examplesDir !== undefined) await seedBuiltinTemplates(store.db, examplesDir);

    // One loop starts every due schedule tick (exactly once per tick, also with several servers).
    const triggers = new TriggerScheduler({
      db: store.handle,
      engine: runner,
      logger: {
        info: (msg, data) => log?.info({ triggers: true, ...data }, msg),
        warn: (msg, data) => log?.warn({ triggers: true, ...data }, msg),
        error: (msg, data) => log?.error({ triggers: true, ...data }, msg),
      },
    });
    stopTriggers = () => triggers.stop();
    const server = await buildServer({
      store,
      engine: runner,
      triggers,
      ...(process.env.TRELLIS_MCP_WAIT_MS && Number(process.env.TRELLIS_MCP_WAIT_MS) >= 0
        ? { mcpWaitMs: Number(process.env.TRELLIS_MCP_WAIT_MS) }
        : {}),
      connectors: wired.connectors,
      secrets: vault,
      logger: options.logger ?? false,
      publicMetrics: options.publicMetrics === true,
      ...(options.limits ? { limits: options.limits } : {}),
      ...(options.consoleDir !== undefined ? { consoleDir: options.consoleDir } : {}),
    });
    log = server.app.log;
    http = server;
    await port.release();
    const address = await server.app.listen({ host: options.host, port: options.port });
    // Unfinished runs resume now, with the port open: recovery never delays /healthz or the API.
    void runner.startRecovery();
    if (options.demo) {
      // Only a server that serves its port registers its demo services (their ports are its own).
      let services: DemoServices | undefined;
      if (options.demoServices) {
        const start = options.demoServices;
        stopDemo = await registerDemoServices(wired.connectors, vault, async () => {
          services = await start();
          return services;
        });
      }
      const demoDir = options.demoWorkflowsDir ?? (examplesDir !== undefined ? join(examplesDir, 'demo') : undefined);
      const hasDemo = demoDir !== undefined && existsSync(demoDir) && readdirSync(demoDir).some((f) => f.endsWith('.json'));
      const dirs = hasDemo ? [demoDir] : examplesDir !== undefined ? [examplesDir] : [];
      await seedDemoWorkflows(store.db, dirs);
      // Trellis calling Trellis: a second instance, in this process, serves the booking desk over A2A.
      const { logger } = options;
      demoPeer = await startDemoPeer({
        mainDb: options.db,
        vault,
        agents: wired.connectors.agents,
        services,
        demoDirs: dirs,
        registerServices: registerStartedDemoServices,
        start: (db) =>
          startTrellisServer({
            db,
            host: '127.0.0.1',
            port: 0,
            demo: false,
            allowLoopback: true,
            ...(options.allowHosts ? { allowHosts: options.allowHosts } : {}),
            ...(executors ? { executors } : {}),
            ...(options.consoleDir !== undefined ? { consoleDir: options.consoleDir } : {}),
            graceMs: options.graceMs ?? 10_000,
            logger: logger && typeof logger === 'object' ? { ...logger, name: 'demo-peer-desk' } : (logger ?? false),
          }),
      }).catch((err: unknown) => ({ registered: false as const, reason: err instanceof Error ? err.message : String(err) }));
      if (demoPeer.registered) {
        const { instance } = demoPeer;
        stopPeer = () => instance.close(0);
      } else log?.warn({ demo: true }, `the Trellis-to-Trellis demo is off: ${demoPeer.reason}`);
    }
    const url = address.replace('[::1]', 'localhost');
    triggers.start();
    let closing: Promise<void> | undefined;
    const close = (graceMs = options.graceMs ?? 10_000): Promise<void> => {
      closing ??= (async () => {
        server.ctx.draining = true;
        await triggers.stop();
        for (const stop of [...server.ctx.streams]) stop('the server is shutting down; reconnect with after=<last seq>');
        await runner.shutdown(graceMs);
        // Requests still open after the grace period (a chat waiting on a run) are cut.
        const force = setTimeout(() => server.app.server.closeAllConnections(), 1000);
        await server.app.close();
        clearTimeout(force);
        // The demo's second instance: its runs were waiting on this one's calls, or are done.
        await stopPeer?.();
        await stopDemo?.();
        await wired.close(0);
        await store.close();
        lock.release();
      })();
      return closing;
    };
    const signInLink = async () => {
      const { code } = await createSignInCode(store.db, { principal: ADMIN_PRINCIPAL, admin: true });
      return `${url}/#code=${code}`;
    };
    return {
      url,
      adminToken: admin.created ? admin.token : undefined,
      signInLink,
      server,
      engine: runner,
      store,
      ...(demoPeer ? { demoPeer } : {}),
      close,
    };
  } catch (err) {
    await http?.app.close();
    await stopTriggers?.();
    await stopPeer?.();
    await stopDemo?.();
    await trellis?.close(0);
    await store.close();
    lock.release();
    await port.release();
    throw err;
  }
}
