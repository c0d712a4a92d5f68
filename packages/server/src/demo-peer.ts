/**
 * --demo: Trellis calling another Trellis over A2A. Once the main server serves its port, a second,
 * separate Trellis instance starts in the same process — its own SQLite database
 * (`<main database's folder>/peer-desk.db`; with PostgreSQL or an in-memory main database, a
 * folder under the OS temp dir removed on close), its own engine, API server, administrator and
 * secrets key — on `127.0.0.1:<free port>`. It holds one workflow, `demo-peer-booking-desk`
 * (owned by its administrator), and the demo agents that workflow calls. The main instance's demo
 * workflow `demo-trellis-calls-trellis` has an `agent_call` to the agent `trellis-peer`, registered
 * at the second instance's `/a2a/workflows/<id>`: a real A2A call over HTTP between two servers.
 *
 * The caller is the second instance's principal `demo-peer`, which holds the `runner` role on that
 * one workflow and nothing else (never an administrator's token); its token is kept in the MAIN
 * instance's secret `DEMO_PEER_TOKEN` (reused while the second instance accepts it), and the agent
 * is registered with the reference `{{ $secrets.DEMO_PEER_TOKEN }}`, so no token is in a
 * registration, definition or run record of either instance. The second instance's administrator
 * token is not printed: it is written, on its first start, to `<its database>.admin-token`
 * (readable only by the user). It stops when the main server closes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Connectors } from '@trellis/connectors';
import {
  ADMIN_PRINCIPAL,
  createToken,
  createWorkflow,
  type Database,
  grant,
  isPostgresUrl,
  readTemplateFiles,
  type SecretVault,
  verifyToken,
} from '@trellis/store';
import type { Kysely } from 'kysely';
import type { DemoServices, RunningServer } from './serve.ts';
import { checkDefinition } from './validation.ts';

export const DEMO_PEER = {
  /** The registered agent (in the main instance) the calling workflow names. */
  agent: 'trellis-peer',
  /** The workflow of the second instance served as that agent. */
  workflow: 'demo-peer-booking-desk',
  /** The second instance's principal the calling side authenticates as. */
  principal: 'demo-peer',
  /** The main instance's global secret holding that principal's token. */
  secret: 'DEMO_PEER_TOKEN',
  /** The second instance's database file, in the main database's folder. */
  dbFile: 'peer-desk.db',
} as const;

/** The second Trellis instance of the demo. */
export interface DemoPeerInstance {
  url: string;
  /** Its SQLite database file. */
  db: string;
  /** The file holding its administrator's API token (mode 0600), written on its first start. */
  adminTokenFile: string;
  server: RunningServer;
  close(graceMs?: number): Promise<void>;
}

export type DemoPeerOutcome =
  | { registered: true; url: string; instance: DemoPeerInstance }
  | { registered: false; reason: string };

/** A URL on loopback for a server listening at `address` (a wildcard address is reached on 127.0.0.1). */
export function loopbackBase(address: string): string {
  const u = new URL(address);
  if (u.hostname === '0.0.0.0' || u.hostname === '[::]' || u.hostname === 'localhost') u.hostname = '127.0.0.1';
  return u.origin;
}

/** Where the second instance keeps its database: beside a SQLite main database, else in a temp folder. */
function peerDbPath(mainDb: string): { db: string; temporary: string | undefined } {
  if (isPostgresUrl(mainDb) || mainDb === ':memory:' || mainDb.startsWith('file::memory:')) {
    const dir = mkdtempSync(join(tmpdir(), 'trellis-demo-peer-'));
    return { db: join(dir, DEMO_PEER.dbFile), temporary: dir };
  }
  return { db: join(dirname(resolve(mainDb)), DEMO_PEER.dbFile), temporary: undefined };
}

/**
 * Starts the second instance and registers it in the main one. Fails (and stops what it started)
 * when it cannot; the caller logs the reason and the rest of the demo runs.
 */
export async function startDemoPeer(o: {
  mainDb: string;
  /** The main instance's secrets (the caller's token is kept there). */
  vault: SecretVault;
  /** The main instance's agents (`trellis-peer` is registered there). */
  agents: Connectors['agents'];
  /** The demo services already running on loopback (the desk's agents are registered from them). */
  services: DemoServices | undefined;
  /** The folders of demo workflows (the desk's definition is read there). */
  demoDirs: string[];
  /** Starts a Trellis server on this database (the same composition as the main one). */
  start(db: string): Promise<RunningServer>;
  /** Registers demo services in an instance, as for the main one. */
  registerServices(connectors: Pick<Connectors, 'agents' | 'tools'>, vault: SecretVault, services: DemoServices): Promise<void>;
}): Promise<DemoPeerOutcome> {
  if (!o.vault.available)
    return { registered: false, reason: 'the call uses a token kept as a secret, and secrets are off on this database' };
  const desk = o.demoDirs
    .flatMap((dir) => readTemplateFiles(dir, (d) => checkDefinition(d).valid).templates)
    .find((t) => t.name === DEMO_PEER.workflow);
  if (!desk) return { registered: false, reason: `there is no demo workflow '${DEMO_PEER.workflow}' to serve` };

  const where = peerDbPath(o.mainDb);
  let server: RunningServer;
  try {
    server = await o.start(where.db);
  } catch (err) {
    if (where.temporary) rmSync(where.temporary, { recursive: true, force: true });
    throw err;
  }
  const adminTokenFile = `${where.db}.admin-token`;
  let closing: Promise<void> | undefined;
  const close = (graceMs = 0) => {
    closing ??= server.close(graceMs).finally(() => {
      if (where.temporary) rmSync(where.temporary, { recursive: true, force: true });
    });
    return closing;
  };
  try {
    if (server.adminToken !== undefined) writeFileSync(adminTokenFile, `${server.adminToken}\n`, { mode: 0o600 });
    const { connectors, secrets } = server.server.ctx;
    if (!connectors || !secrets) throw new Error('the second instance has no connectors or secrets');
    // The agents the desk calls (and the secrets they need), registered there as in the main instance.
    if (o.services) {
      const check = checkDefinition(desk.definition);
      const nodes = check.valid ? check.definition.nodes : [];
      const needed = new Set(nodes.flatMap((n) => (n.type === 'agent_call' ? [n.agent] : [])));
      await o.registerServices(connectors, secrets, {
        ...o.services,
        agents: o.services.agents.filter((a) => needed.has(a.name)),
        toolServers: [],
      });
    }
    const deskId = await seedDesk(server.store.db, desk);
    const url = `${loopbackBase(server.url)}/a2a/workflows/${encodeURIComponent(deskId)}`;
    await registerCaller({ peerDb: server.store.db, deskId, vault: o.vault, agents: o.agents, url });
    return {
      registered: true,
      url,
      instance: { url: server.url, db: where.db, adminTokenFile, server, close },
    };
  } catch (err) {
    await close(0);
    throw err;
  }
}

type Template = ReturnType<typeof readTemplateFiles>['templates'][number];

/** The desk workflow in the second instance: created once (owned by its administrator), then kept. */
async function seedDesk(db: Kysely<Database>, desk: Template): Promise<string> {
  const existing = await db
    .selectFrom('workflows')
    .select(['id'])
    .where('name', '=', DEMO_PEER.workflow)
    .where('deleted_at', 'is', null)
    .where('scratch_of', 'is', null)
    .orderBy('created_at', 'asc')
    .executeTakeFirst();
  if (existing) return existing.id;
  const { id } = await createWorkflow(db, {
    name: desk.name,
    description: desk.description,
    definition: desk.definition,
    owner: ADMIN_PRINCIPAL,
  });
  return id;
}

/** The caller's principal and token in the second instance; the token as a secret and the agent in the main one. */
async function registerCaller(o: {
  peerDb: Kysely<Database>;
  deskId: string;
  vault: SecretVault;
  agents: Connectors['agents'];
  url: string;
}): Promise<void> {
  // Reused while the second instance accepts it (its database persists beside the main one).
  let token: string | undefined;
  if (await o.vault.get(DEMO_PEER.secret)) {
    const kept = await o.vault.reveal(DEMO_PEER.secret, undefined).catch(() => undefined);
    const who = kept ? await verifyToken(o.peerDb, kept) : undefined;
    if (who?.name === DEMO_PEER.principal && !who.isAdmin) token = kept;
  }
  if (!token) {
    token = (await createToken(o.peerDb, { principal: DEMO_PEER.principal, name: 'demo: called by the main Trellis over A2A' }))
      .token;
    await o.vault.put(DEMO_PEER.secret, {
      value: token,
      scope: 'global',
      description: `token of '${DEMO_PEER.principal}' at the demo's second Trellis instance (runner on '${DEMO_PEER.workflow}' only)`,
      by: ADMIN_PRINCIPAL,
    });
  }
  await grant(o.peerDb, o.deskId, DEMO_PEER.principal, 'runner');
  await o.agents.delete(DEMO_PEER.agent);
  await o.agents.register({
    url: o.url,
    name: DEMO_PEER.agent,
    // The card needs the token too (cards of workflows are not public).
    headers: { Authorization: `Bearer {{ $secrets.${DEMO_PEER.secret} }}` },
    createdBy: ADMIN_PRINCIPAL,
  });
}
