/**
 * --demo: Trellis calling a Trellis workflow over A2A. The demo workflow
 * `demo-trellis-calls-trellis` has an `agent_call` to the agent `trellis-peer`, which is the demo
 * workflow `demo-peer-booking-desk` served by this same server at `/a2a/workflows/<id>` — reached
 * over HTTP on loopback exactly as another Trellis would reach it: a real A2A call, with a bearer
 * token of its own. The caller is the principal `demo-peer`, which holds the `runner` role on that
 * one workflow and nothing else (never the administrator's token); its token is kept in the secret
 * `DEMO_PEER_TOKEN`, and the agent is registered with the reference `{{ $secrets.DEMO_PEER_TOKEN }}`,
 * so the token is in no registration, definition or run record.
 *
 * Runs at every start of a server that serves its port (after the demo workflows are seeded): the
 * agent is re-registered at this start's address; the token is reused while it is valid.
 */
import type { Connectors } from '@trellis/connectors';
import { ADMIN_PRINCIPAL, createToken, type Database, grant, type SecretVault, verifyToken } from '@trellis/store';
import type { Kysely } from 'kysely';

export const DEMO_PEER = {
  /** The registered agent the calling workflow names. */
  agent: 'trellis-peer',
  /** The demo workflow served as that agent. */
  workflow: 'demo-peer-booking-desk',
  /** The principal the calling side authenticates as. */
  principal: 'demo-peer',
  /** The global secret holding that principal's token. */
  secret: 'DEMO_PEER_TOKEN',
} as const;

export type DemoPeerOutcome = { registered: true; url: string } | { registered: false; reason: string };

/** A URL on loopback for a server listening at `address` (a wildcard address is reached on 127.0.0.1). */
export function loopbackBase(address: string): string {
  const u = new URL(address);
  if (u.hostname === '0.0.0.0' || u.hostname === '[::]' || u.hostname === 'localhost') u.hostname = '127.0.0.1';
  return u.origin;
}

export async function registerDemoPeer(o: {
  db: Kysely<Database>;
  vault: SecretVault;
  agents: Connectors['agents'];
  /** The server's own base URL (loopback). */
  baseUrl: string;
}): Promise<DemoPeerOutcome> {
  const wf = await o.db
    .selectFrom('workflows')
    .select(['id'])
    .where('name', '=', DEMO_PEER.workflow)
    .where('deleted_at', 'is', null)
    .where('scratch_of', 'is', null)
    .orderBy('created_at', 'asc')
    .executeTakeFirst();
  if (!wf)
    return { registered: false, reason: `there is no workflow '${DEMO_PEER.workflow}' (deleted, or seeded before it existed)` };
  if (!o.vault.available)
    return { registered: false, reason: 'the call uses a token kept as a secret, and secrets are off on this database' };

  // The caller's token: reused while valid (several starts, or servers sharing a database).
  let token: string | undefined;
  if (await o.vault.get(DEMO_PEER.secret)) {
    const kept = await o.vault.reveal(DEMO_PEER.secret, undefined).catch(() => undefined);
    const who = kept ? await verifyToken(o.db, kept) : undefined;
    if (who?.name === DEMO_PEER.principal && !who.isAdmin) token = kept;
  }
  if (!token) {
    token = (await createToken(o.db, { principal: DEMO_PEER.principal, name: 'demo: Trellis calling Trellis over A2A' })).token;
    await o.vault.put(DEMO_PEER.secret, {
      value: token,
      scope: 'global',
      description: `token of '${DEMO_PEER.principal}', the demo's A2A caller of '${DEMO_PEER.workflow}' (runner on that workflow only)`,
      by: ADMIN_PRINCIPAL,
    });
  }
  await grant(o.db, wf.id, DEMO_PEER.principal, 'runner');

  const url = `${o.baseUrl}/a2a/workflows/${encodeURIComponent(wf.id)}`;
  await o.agents.delete(DEMO_PEER.agent);
  await o.agents.register({
    url,
    name: DEMO_PEER.agent,
    // The card needs the token too (cards of workflows are not public).
    headers: { Authorization: `Bearer {{ $secrets.${DEMO_PEER.secret} }}` },
    createdBy: ADMIN_PRINCIPAL,
  });
  return { registered: true, url };
}
