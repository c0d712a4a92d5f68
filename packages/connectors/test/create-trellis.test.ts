/**
 * createTrellis: the one composition of store, outbound guard, connectors, host tools and engine
 * that `serve`, `run`, `worker` and embedding applications share; and the embedding example of
 * docs/runtime.md, executed as a user runs it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { TrellisError } from '@trellis/core';
import { openStore } from '@trellis/store';
import { afterEach, describe, expect, it } from 'vitest';
import { createTrellis, type Trellis } from '../src/index.ts';

const dbFile = () => join(mkdtempSync(join(tmpdir(), 'trellis-compose-')), 't.db');
let open: Trellis | undefined;
afterEach(async () => {
  await open?.close(0);
  open = undefined;
});

describe('createTrellis', () => {
  it('runs a workflow with a host tool (a plain function) and the built-in nodes', async () => {
    open = await createTrellis({ db: dbFile(), tools: { 'app.double': (input) => ({ n: (input as { n: number }).n * 2 }) } });
    const { id, version } = await open.saveWorkflow({
      name: 'double',
      nodes: [
        { id: 'd', type: 'tool_call', tool: 'app.double', input: { n: '$context.n' } },
        { id: 'plus', type: 'transform', expression: '$d.n + 1' },
      ],
      edges: [{ from: 'd', to: 'plus' }],
      output: { result: '$plus' },
    });
    const { runId } = await open.engine.startRun({ workflowId: id, version, input: { n: 20 } });
    const run = await open.engine.waitForRun(runId);
    expect(run.status).toBe('succeeded');
    expect(run.output).toEqual({ result: 41 });
  });

  it('refuses an invalid definition with every problem, nothing saved', async () => {
    open = await createTrellis({ db: dbFile() });
    const err = await open
      .saveWorkflow({ name: 'bad', nodes: [{ id: 'a', type: 'transform', expression: '1' }], edges: [{ from: 'a', to: 'zz' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrellisError);
    expect(err).toMatchObject({ code: 'UNKNOWN_NODE_REFERENCE', category: 'user' });
    expect((err as TrellisError).details).toEqual(
      expect.arrayContaining([expect.objectContaining({ code: 'UNKNOWN_NODE_REFERENCE' })]),
    );
  });

  it('one allow-host rule: TRELLIS_ALLOW_HOSTS by default, an explicit list replaces it, loopback on request', async () => {
    const before = process.env.TRELLIS_ALLOW_HOSTS;
    process.env.TRELLIS_ALLOW_HOSTS = '10.1.0.0/16, intranet.example';
    try {
      const a = await createTrellis({ db: dbFile() });
      expect(a.allowHosts).toEqual(['10.1.0.0/16', 'intranet.example']);
      await a.close(0);
      const b = await createTrellis({ db: dbFile(), allowHosts: ['192.168.7.7'], allowLoopback: true });
      expect(b.allowHosts).toEqual(['192.168.7.7', 'localhost', '127.0.0.0/8', '::1/128']);
      await b.close(0);
    } finally {
      if (before === undefined) delete process.env.TRELLIS_ALLOW_HOSTS;
      else process.env.TRELLIS_ALLOW_HOSTS = before;
    }
  });

  it('closes a store it opened, and leaves open a store it was given', async () => {
    const store = await openStore(dbFile());
    const t = await createTrellis({ db: store });
    await t.close(0);
    expect(await store.db.selectFrom('trellis_meta').select('key').execute()).toBeInstanceOf(Array);
    await store.close();
  });
});

describe('the embedding example (examples/embed/embed.ts)', () => {
  it('opens a database, runs a workflow calling a TypeScript function, prints its events and output', async () => {
    const file = fileURLToPath(new URL('../../../examples/embed/embed.ts', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', file, dbFile()], { timeout: 60_000 });
    expect(stdout).toContain('1 run.queued');
    expect(stdout).toContain('node.succeeded greet');
    expect(stdout.trim().split('\n').at(-1)).toBe('succeeded: {"message":"HELLO, ADA!"}');
  });
});
