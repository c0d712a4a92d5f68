/**
 * Open event streams keep their right to exist only as long as the caller's access lasts.
 * A WebSocket or SSE stream is authorised once, when it opens; after that this watch re-checks
 * every open stream on a short period (default 2 s) and at once after this server revokes a
 * token or changes a workflow's permissions:
 *
 * - its token was revoked, expired or deleted → the stream ends with `revoked`;
 * - its principal no longer holds the role the stream needs on the run's workflow (and the
 *   token is not an administrator's) → the stream ends with `forbidden`.
 *
 * One query per check looks up all the tokens, one per distinct (workflow, principal) pair
 * the roles, so a thousand open streams cost a handful of queries every period, not a
 * thousand. Revocations made by another process (the CLI, another server on PostgreSQL) are
 * seen at the next period: a stream outlives its rights by at most `intervalMs` plus a check.
 */
import { type Database, getRole, type Role, roleAtLeast } from '@trellis/store';
import type { Kysely } from 'kysely';

/** Why a stream was ended by the watch. */
export type AccessLoss = 'revoked' | 'forbidden';

export interface WatchedStream {
  tokenId: string;
  principal: string;
  workflowId: string;
  /** The least role the stream needs on the workflow. */
  role: Role;
  /** Ends the stream, telling the client why. Called at most once. */
  end(loss: AccessLoss, reason: string): void;
}

const CHUNK = 500;

export class StreamAccessWatch {
  private readonly streams = new Set<WatchedStream>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly db: Kysely<Database>,
    readonly intervalMs = 2_000,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  /** Watches a stream until the returned function is called (when the stream ends). */
  add(stream: WatchedStream): () => void {
    this.streams.add(stream);
    if (!this.timer) {
      this.timer = setInterval(() => void this.checkNow(), this.intervalMs);
      this.timer.unref();
    }
    return () => {
      this.streams.delete(stream);
      if (this.streams.size === 0) this.stop();
    };
  }

  get size(): number {
    return this.streams.size;
  }

  /**
   * Checks every open stream now. Concurrent calls coalesce: a call during a check schedules
   * one more check after it, so a change is never missed by a check that started before it.
   */
  checkNow(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.check();
        } catch (err) {
          this.onError(err);
        }
      } while (this.again);
      this.running = undefined;
    })();
    return this.running;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async check(): Promise<void> {
    if (this.streams.size === 0) return;
    const streams = [...this.streams];
    const tokenIds = [...new Set(streams.map((s) => s.tokenId))];
    const tokens = new Map<string, { admin: boolean }>();
    const now = Date.now();
    for (let i = 0; i < tokenIds.length; i += CHUNK) {
      const rows = await this.db
        .selectFrom('api_tokens')
        .select(['id', 'is_admin', 'revoked_at', 'expires_at'])
        .where('id', 'in', tokenIds.slice(i, i + CHUNK))
        .execute();
      for (const r of rows) {
        const live = r.revoked_at === null && (r.expires_at === null || Date.parse(r.expires_at) > now);
        if (live) tokens.set(r.id, { admin: r.is_admin === 1 });
      }
    }
    const roles = new Map<string, Role | undefined>();
    for (const s of streams) {
      if (!this.streams.has(s)) continue;
      const token = tokens.get(s.tokenId);
      if (!token) {
        this.lose(s, 'revoked', 'the token of this stream was revoked or has expired');
        continue;
      }
      if (token.admin) continue;
      const key = `${s.workflowId}\u0000${s.principal}`;
      if (!roles.has(key)) roles.set(key, await getRole(this.db, s.workflowId, s.principal));
      const role = roles.get(key);
      if (!roleAtLeast(role, s.role))
        this.lose(
          s,
          'forbidden',
          `'${s.principal}' no longer has ${s.role} or above on workflow '${s.workflowId}'${role ? ` (now ${role})` : ''}`,
        );
    }
  }

  private lose(s: WatchedStream, loss: AccessLoss, reason: string): void {
    if (!this.streams.delete(s)) return;
    if (this.streams.size === 0) this.stop();
    s.end(loss, reason);
  }
}
