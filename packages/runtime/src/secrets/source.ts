/**
 * Where executors get secret values: at the last moment, per call, with the scope checked
 * against the run's workflow. Nothing here caches a value.
 */
import { TrellisError } from '@trellis/core';
import type { SecretVault, Store } from '@trellis/store';

export interface SecretSource {
  /** The value of `name` for a node of run `runId`: SECRET_NOT_FOUND / SECRET_NOT_ALLOWED_HERE otherwise. */
  forRun(name: string, runId: string): Promise<string>;
  /** The value of `name` for an agent or tool-server registration (global secrets only). */
  forRegistration(name: string): Promise<string>;
}

/** A source that has no secrets: every use fails clearly. */
export const NO_SECRETS: SecretSource = {
  forRun: (name) => Promise.reject(unavailable(name)),
  forRegistration: (name) => Promise.reject(unavailable(name)),
};

function unavailable(name: string): TrellisError {
  return new TrellisError(
    'SECRET_NOT_FOUND',
    `secret ${name} cannot be read: this process has no secrets store (set TRELLIS_SECRET_KEY, or use a database with its key file)`,
    { category: 'user' },
  );
}

/** Secrets from the store, scoped by the workflow of the run using them. */
export function vaultSecretSource(vault: SecretVault, db: Store['db']): SecretSource {
  const workflows = new Map<string, string>();
  const workflowOf = async (runId: string): Promise<string> => {
    const known = workflows.get(runId);
    if (known) return known;
    // A builder test run (scratch workflow) uses the secrets of the workflow it tests.
    const row = await db
      .selectFrom('runs')
      .leftJoin('workflows', 'workflows.id', 'runs.workflow_id')
      .select(['runs.workflow_id', 'workflows.scratch_of'])
      .where('runs.id', '=', runId)
      .executeTakeFirst();
    if (!row) throw new TrellisError('SECRET_NOT_ALLOWED_HERE', `run ${runId} is unknown; its secrets cannot be resolved`);
    const workflowId = row.scratch_of ?? row.workflow_id;
    if (workflows.size > 10_000) workflows.clear();
    workflows.set(runId, workflowId);
    return workflowId;
  };
  return {
    forRun: async (name, runId) => {
      if (!vault.available) throw unavailable(name);
      return vault.reveal(name, await workflowOf(runId));
    },
    forRegistration: async (name) => {
      if (!vault.available) throw unavailable(name);
      return vault.reveal(name, undefined);
    },
  };
}
