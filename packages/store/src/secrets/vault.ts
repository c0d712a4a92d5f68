/**
 * The secrets store: named values encrypted at rest, scoped globally or to one workflow.
 * Values go in through `put` and come out only through `reveal`, which the executors call at
 * the last moment; every other read (`list`, `get`) returns metadata only.
 *
 * Start-up check: the database remembers the id (key check value) of the key its secrets are
 * written under (`trellis_meta.secret_key_id`); a process holding another key is refused at
 * open with a message saying so, instead of failing later on garbage.
 */
import { TrellisError } from '@trellis/core';
import type { Kysely } from 'kysely';
import { nowIso } from '../areas/workflows.ts';
import { StoreOpenError } from '../errors.ts';
import type { Database, SecretsTable } from '../tables.ts';
import { decryptSecret, encryptSecret, generateSecretKey, type KeyRing, keyRing, type SecretKey } from './crypto.ts';
import { SECRET_KEY_ENV, type SecretKeySource, writeKeyFile } from './key-source.ts';

export const SECRET_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
export const SECRET_VALUE_MAX_BYTES = 64 * 1024;
const META_KEY = 'secret_key_id';

/** `global`, or `workflow:<id>`. */
export type SecretScope = 'global' | `workflow:${string}`;

export function parseSecretScope(s: string): SecretScope | undefined {
  if (s === 'global') return 'global';
  if (/^workflow:[A-Za-z0-9_-]{1,200}$/.test(s)) return s as SecretScope;
  return undefined;
}

/** Whether a workflow (by id; undefined: not tied to one, e.g. a registration) may use a secret of `scope`. */
export function scopeAllows(scope: string, workflowId: string | undefined): boolean {
  return scope === 'global' || (workflowId !== undefined && scope === `workflow:${workflowId}`);
}

/** A secret as anyone may see it: never the value. */
export interface SecretInfo {
  name: string;
  scope: SecretScope;
  description: string | null;
  createdBy: string;
  createdAt: string;
  updatedBy: string;
  updatedAt: string;
}

function toInfo(r: SecretsTable): SecretInfo {
  return {
    name: r.name,
    scope: r.scope as SecretScope,
    description: r.description,
    createdBy: r.created_by,
    createdAt: r.created_at,
    updatedBy: r.updated_by,
    updatedAt: r.updated_at,
  };
}

export class SecretVault {
  private constructor(
    private readonly db: Kysely<Database>,
    private readonly source: SecretKeySource | undefined,
    private ring: KeyRing | undefined,
  ) {}

  /**
   * Opens the store's secrets with the keys `source` gives. Refuses (StoreOpenError) a key that
   * is not the one the database's secrets were written with, and a database holding secrets
   * when no key is given.
   */
  static async open(db: Kysely<Database>, source: SecretKeySource | undefined): Promise<SecretVault> {
    const meta = await readMetaKeyId(db);
    const rowKeys = [
      ...new Set([
        ...(await db.selectFrom('secrets').select('key_id').distinct().execute()).map((r) => r.key_id),
        ...(await triggerSecrets(db, true)).map((r) => sealedKeyId(r.secret)),
      ]),
    ];
    if (!source) {
      if (meta !== undefined || rowKeys.length > 0) {
        throw new StoreOpenError(
          `this database holds secrets but no key was given: set ${SECRET_KEY_ENV} to the key they were written with (every process sharing the database needs it)`,
        );
      }
      return new SecretVault(db, undefined, undefined);
    }
    const ring = source.load();
    const held = new Set(ring.keys.map((k) => k.id));
    const missing = [...new Set([...(meta === undefined ? [] : [meta]), ...rowKeys])].filter((id) => !held.has(id));
    if (missing.length > 0) {
      throw new StoreOpenError(
        `the secrets key from ${source.description} (key id ${ring.current.id}) is not the one this database's secrets were written with (key id ${missing.join(', ')}); give that key, or during a rotation both: ${SECRET_KEY_ENV}=<new>,<old>`,
      );
    }
    if (meta === undefined) {
      await db
        .insertInto('trellis_meta')
        .values({ key: META_KEY, value: ring.current.id })
        .onConflict((oc) => oc.column('key').doNothing())
        .execute();
      const now = await readMetaKeyId(db);
      if (now !== undefined && !held.has(now)) {
        throw new StoreOpenError(
          `another process initialised this database's secrets with a different key (key id ${now}); give every process the same ${SECRET_KEY_ENV}`,
        );
      }
    }
    return new SecretVault(db, source, ring);
  }

  /** False when no key is configured (PostgreSQL without TRELLIS_SECRET_KEY). */
  get available(): boolean {
    return this.ring !== undefined;
  }

  /** The current key's id (a key check value, safe to show). */
  get keyId(): string | undefined {
    return this.ring?.current.id;
  }

  async list(): Promise<SecretInfo[]> {
    const rows = await this.db.selectFrom('secrets').selectAll().orderBy('name').execute();
    return rows.map(toInfo);
  }

  async get(name: string): Promise<SecretInfo | undefined> {
    const row = await this.db.selectFrom('secrets').selectAll().where('name', '=', name).executeTakeFirst();
    return row ? toInfo(row) : undefined;
  }

  /** Creates or replaces a secret (a fresh nonce every write). */
  async put(
    name: string,
    input: { value: string; scope: SecretScope; description?: string | null; by: string },
  ): Promise<{ secret: SecretInfo; created: boolean }> {
    if (!SECRET_NAME_PATTERN.test(name)) {
      throw new TrellisError(
        'INPUT_INVALID',
        `"${name.slice(0, 140)}" is not a valid secret name: use letters, digits and _ (not starting with a digit), at most 128 characters`,
        { category: 'user' },
      );
    }
    if (Buffer.byteLength(input.value, 'utf8') > SECRET_VALUE_MAX_BYTES) {
      throw new TrellisError('INPUT_INVALID', `a secret value is at most ${SECRET_VALUE_MAX_BYTES} bytes`, { category: 'user' });
    }
    const key = await this.writeKey();
    const now = nowIso();
    const ciphertext = encryptSecret(key, name, input.value);
    const existing = await this.db.selectFrom('secrets').selectAll().where('name', '=', name).executeTakeFirst();
    if (existing) {
      const set = {
        scope: input.scope,
        description: input.description === undefined ? existing.description : input.description,
        ciphertext,
        key_id: key.id,
        updated_by: input.by,
        updated_at: now,
      };
      await this.db.updateTable('secrets').set(set).where('name', '=', name).execute();
      return { secret: toInfo({ ...existing, ...set }), created: false };
    }
    const row: SecretsTable = {
      name,
      scope: input.scope,
      description: input.description ?? null,
      ciphertext,
      key_id: key.id,
      created_by: input.by,
      created_at: now,
      updated_by: input.by,
      updated_at: now,
    };
    const res = await this.db
      .insertInto('secrets')
      .values(row)
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    if (Number(res.numInsertedOrUpdatedRows ?? 0n) === 0) return this.put(name, input); // created concurrently: replace it
    return { secret: toInfo(row), created: true };
  }

  async delete(name: string): Promise<boolean> {
    const res = await this.db.deleteFrom('secrets').where('name', '=', name).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  /**
   * The value of a secret, for the executor about to send it. `workflowId` is the workflow
   * using it (undefined for registrations, which may use global secrets only).
   */
  async reveal(name: string, workflowId: string | undefined): Promise<string> {
    const row = await this.db.selectFrom('secrets').selectAll().where('name', '=', name).executeTakeFirst();
    if (!row) {
      throw new TrellisError('SECRET_NOT_FOUND', `secret ${name} does not exist; create it with PUT /api/v1/secrets/${name}`, {
        category: 'user',
      });
    }
    if (!scopeAllows(row.scope, workflowId)) {
      throw new TrellisError(
        'SECRET_NOT_ALLOWED_HERE',
        `secret ${name} is scoped to ${row.scope}; ${workflowId ? `workflow ${workflowId}` : 'a registration'} may not use it`,
        { category: 'user' },
      );
    }
    return decryptSecret(this.keyFor(row.key_id, name) ?? (await this.reloadFor(row.key_id, name)), name, row.ciphertext);
  }

  /**
   * Encrypts a value the server must read back itself (a webhook's signing secret), bound to
   * `context` (it cannot be moved to another trigger). Without a configured key (PostgreSQL
   * without TRELLIS_SECRET_KEY) the value is kept as it is, and encrypted at the next write
   * after a key is set.
   */
  async seal(context: string, value: string): Promise<string> {
    if (!this.ring) return value;
    const key = await this.writeKey();
    return `${SEALED_PREFIX}${key.id}.${encryptSecret(key, context, value)}`;
  }

  /** The value `seal` encrypted (a value stored before encryption is returned as it is). */
  async unseal(context: string, stored: string): Promise<string> {
    if (!stored.startsWith(SEALED_PREFIX)) return stored;
    const keyId = sealedKeyId(stored);
    const blob = stored.slice(SEALED_PREFIX.length + keyId.length + 1);
    return decryptSecret(this.keyFor(keyId, context) ?? (await this.reloadFor(keyId, context)), context, blob);
  }

  /**
   * Re-encrypts every secret under a new key, row by row, while servers keep running.
   * With a key file: a new key is generated and written first beside the old one, the database
   * is switched to it, every row is re-encrypted, then the old key leaves the file (running
   * servers re-read the file when they meet a row under a key they do not hold).
   * With TRELLIS_SECRET_KEY: its first key is the new one (`new,old`).
   */
  async rotate(): Promise<{ keyId: string; reencrypted: number; previousKeyId: string | undefined }> {
    if (!this.source || !this.ring) {
      throw new TrellisError('SECRET_KEY_MISSING', `no secrets key is configured: set ${SECRET_KEY_ENV}`, { category: 'user' });
    }
    const previous = await readMetaKeyId(this.db);
    let ring = this.source.load();
    if (this.source.file) {
      const fresh = generateSecretKey();
      ring = keyRing([fresh, ...ring.keys]);
      writeKeyFile(this.source.file, ring.keys);
    } else if (ring.current.id === previous && ring.keys.length === 1) {
      const rows = await this.db.selectFrom('secrets').select('name').where('key_id', '!=', ring.current.id).execute();
      if (rows.length === 0) {
        throw new TrellisError(
          'SECRET_KEY_INVALID',
          `${SECRET_KEY_ENV} holds only the current key; put the new key first: ${SECRET_KEY_ENV}=<new>,<old> (\`trellis secrets generate-key\` prints one)`,
          { category: 'user' },
        );
      }
    }
    this.ring = ring;
    await this.db.updateTable('trellis_meta').set({ value: ring.current.id }).where('key', '=', META_KEY).execute();
    let count = 0;
    // Loop: a server that read the old key id just before the switch may still write one row under it.
    for (let pass = 0; pass < 5; pass++) {
      const stale = await this.db.selectFrom('secrets').selectAll().where('key_id', '!=', ring.current.id).execute();
      if (stale.length === 0) break;
      for (const row of stale) {
        const oldKey = this.keyFor(row.key_id, row.name);
        if (!oldKey) {
          throw new TrellisError(
            'SECRET_KEY_INVALID',
            `secret ${row.name} is written under key ${row.key_id}, which is not held`,
          );
        }
        const value = decryptSecret(oldKey, row.name, row.ciphertext);
        const res = await this.db
          .updateTable('secrets')
          .set({ ciphertext: encryptSecret(ring.current, row.name, value), key_id: ring.current.id })
          .where('name', '=', row.name)
          .where('ciphertext', '=', row.ciphertext)
          .executeTakeFirst();
        count += Number(res.numUpdatedRows);
      }
    }
    // Webhook signing secrets (also any stored before encryption): the same, conditionally on the
    // row being unchanged.
    for (let pass = 0; pass < 5; pass++) {
      const stale = (await triggerSecrets(this.db, false)).filter(
        (r) => !r.secret.startsWith(`${SEALED_PREFIX}${ring.current.id}.`),
      );
      if (stale.length === 0) break;
      for (const row of stale) {
        const context = webhookSecretContext(row.workflow_id, row.trigger_id);
        const value = await this.unseal(context, row.secret);
        const res = await this.db
          .updateTable('triggers')
          .set({ secret: `${SEALED_PREFIX}${ring.current.id}.${encryptSecret(ring.current, context, value)}` })
          .where('workflow_id', '=', row.workflow_id)
          .where('trigger_id', '=', row.trigger_id)
          .where('secret', '=', row.secret)
          .executeTakeFirst();
        count += Number(res.numUpdatedRows);
      }
    }
    if (this.source.file) {
      writeKeyFile(this.source.file, [ring.current]);
      this.ring = keyRing([ring.current]);
    }
    return { keyId: ring.current.id, reencrypted: count, previousKeyId: previous };
  }

  private keyFor(id: string, _name: string): SecretKey | undefined {
    return this.ring?.keys.find((k) => k.id === id);
  }

  /** A row under a key this process does not hold: a rotation happened; re-read the keys once. */
  private async reloadFor(id: string, name: string): Promise<SecretKey> {
    if (this.source) {
      try {
        const ring = this.source.load();
        this.ring = keyRing([...ring.keys, ...(this.ring?.keys ?? [])]);
      } catch {
        // keep the keys we have; the error below says what is wrong
      }
    }
    const key = this.keyFor(id, name);
    if (!key) {
      throw new TrellisError(
        'SECRET_KEY_INVALID',
        `secret ${name} is written under key ${id}, which this process does not hold; give every process the same ${SECRET_KEY_ENV}`,
      );
    }
    return key;
  }

  /** The key new writes use: the one the database names (rotations switch it), if held. */
  private async writeKey(): Promise<SecretKey> {
    if (!this.ring) {
      throw new TrellisError(
        'SECRET_KEY_MISSING',
        `secrets are unavailable: no key is configured; set ${SECRET_KEY_ENV} on every process sharing this database`,
        { category: 'user' },
      );
    }
    const meta = await readMetaKeyId(this.db);
    if (meta === undefined || meta === this.ring.current.id) return this.ring.current;
    return this.keyFor(meta, '') ?? (await this.reloadFor(meta, '(new)'));
  }
}

/** Values sealed by the vault start with this, then the key id and a dot. */
const SEALED_PREFIX = 'sealed.v1.';

function sealedKeyId(stored: string): string {
  const rest = stored.slice(SEALED_PREFIX.length);
  return rest.slice(0, rest.indexOf('.'));
}

/** What a webhook trigger's signing secret is bound to when sealed. */
export function webhookSecretContext(workflowId: string, triggerId: string): string {
  return `webhook:${workflowId}/${triggerId}`;
}

/** Webhook signing secrets (only the sealed ones, or all), with where they are. */
async function triggerSecrets(
  db: Kysely<Database>,
  sealedOnly: boolean,
): Promise<{ workflow_id: string; trigger_id: string; secret: string }[]> {
  let q = db.selectFrom('triggers').select(['workflow_id', 'trigger_id', 'secret']).where('secret', 'is not', null);
  if (sealedOnly) q = q.where('secret', 'like', `${SEALED_PREFIX}%`);
  const rows = await q.execute();
  return rows.filter((r): r is { workflow_id: string; trigger_id: string; secret: string } => r.secret !== null);
}

async function readMetaKeyId(db: Kysely<Database>): Promise<string | undefined> {
  const row = await db.selectFrom('trellis_meta').select('value').where('key', '=', META_KEY).executeTakeFirst();
  return row?.value;
}
