/**
 * The secret source resolves a run's secrets with the scope of the run's workflow; a builder
 * test run (a run of the workflow's scratch workflow) gets the secrets of the workflow it tests,
 * and no other workflow's. Real SQLite file and vault.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  addScratchVersion,
  createWorkflow,
  formatSecretKey,
  generateSecretKey,
  openStore,
  SecretVault,
  secretKeySource,
} from '@trellis/store';
import { expect, it } from 'vitest';
import { vaultSecretSource } from '../src/index.ts';

it('a test run of a workflow reads that workflow’s scoped secrets, not another’s', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'trellis-secret-source-')), 'trellis.db');
  const store = await openStore(file);
  try {
    const def = { name: 'w', nodes: [{ id: 'a', type: 'transform', expression: '1' }] };
    const mine = await createWorkflow(store.db, { name: 'mine', definition: def, owner: 'alice' });
    const other = await createWorkflow(store.db, { name: 'other', definition: def, owner: 'alice' });
    const scratch = await addScratchVersion(store.db, mine.id, def, 'alice');
    const now = Date.now();
    for (const [id, wf] of [
      ['run_test', scratch.scratchId],
      ['run_real', mine.id],
    ] as const) {
      await store.runs.createRun({
        id,
        workflowId: wf,
        version: 1,
        input: {},
        createdBy: 'alice',
        createdAt: now,
        deadlineAt: null,
        claim: null,
        nodeIds: ['a'],
        events: [
          { seq: 1, runId: id, type: 'run.queued', at: new Date(now).toISOString(), data: { workflowId: wf, version: 1 } },
        ],
      });
    }
    const vault = await SecretVault.open(
      store.db,
      secretKeySource(file, { TRELLIS_SECRET_KEY: formatSecretKey(generateSecretKey()) }),
    );
    await vault.put('MINE', { value: 'm-value', scope: `workflow:${mine.id}`, by: 'alice' });
    await vault.put('OTHERS', { value: 'o-value', scope: `workflow:${other.id}`, by: 'alice' });
    const source = vaultSecretSource(vault, store.db);
    expect(await source.forRun('MINE', 'run_test')).toBe('m-value');
    expect(await source.forRun('MINE', 'run_real')).toBe('m-value');
    await expect(source.forRun('OTHERS', 'run_test')).rejects.toMatchObject({ code: 'SECRET_NOT_ALLOWED_HERE' });
  } finally {
    await store.close();
  }
});
