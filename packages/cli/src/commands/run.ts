/**
 * `trellis run FILE [--input JSON|@file] [--db PATH] [--demo] [--json]`: runs a definition
 * locally on an embedded SQLite database, with live progress on stderr and the run's output on
 * stdout. Exit: 0 succeeded, 1 failed or cancelled, 2 invalid definition, input or usage.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { createTrellis, type Trellis } from '@trellis/connectors';
import { compile, type RunEvent, type RunRecord, TrellisError, toErrorInfo } from '@trellis/core';
import { type Engine, vaultSecretSource } from '@trellis/runtime';
import { registerDemoServices } from '@trellis/server';
import {
  acquireInstanceLock,
  addVersion,
  DatabaseInUseError,
  getWorkflow,
  openStore,
  SecretVault,
  type Store,
  StoreOpenError,
  secretKeySource,
} from '@trellis/store';
import { startDemoServices } from '../assets.ts';
import { loadDefinitionFile } from '../load-definition.ts';
import { Progress } from '../progress.ts';
import { inputAdvice, missingReferences, registryAdvice, workflowForRun } from '../run-preflight.ts';
import { formatProblem } from './validate.ts';

export const RUN_HELP = `Usage: trellis run FILE [--input JSON|@file] [--db PATH] [--demo] [--json] [--approve-gates]
       trellis run --retry RUN_ID --db PATH [--from NODE,…] [--latest | FILE] [--json] [--approve-gates]

Runs a workflow definition (JSON or YAML) locally and durably, on an embedded SQLite
database, showing every transition live on stderr. The run's output goes to stdout.

Options:
  --input JSON|@file  the run's input (the $context variable): inline JSON, or @path to a JSON file
  --db PATH           SQLite file to keep the run in (default: a temporary database, removed after);
                      refused while \`trellis serve\` uses that file (run through that server instead)
  --demo              start the demo A2A agents and MCP server in this process and register them,
                      so the examples run offline (e.g. trellis run examples/hotel-search.json --demo)
  --json              print the whole run record (nodes, attempts, costs) instead of the output
  --approve-gates     approve every human gate automatically (for scripts); on a terminal you
                      are asked instead, otherwise the run stops waiting at the gate
  --retry RUN_ID      retry a finished run kept in --db as a new run: nodes that succeeded are
                      reused (not executed, not paid again); failed and cancelled ones run again
  --from NODE,…       with --retry: run these nodes again, and everything downstream of them
  --latest            with --retry: run the workflow's newest version (unchanged nodes are reused)
  FILE                with --retry: saved as a new version of the run's workflow, then retried
                      as with --latest (e.g. after fixing the step that failed)
  -q, --quiet         no progress on stderr
  -h, --help          show this help

Ctrl-C cancels the run cleanly (its record says "cancelled").
Exit status: 0 succeeded, 1 failed, cancelled or left waiting, 2 invalid definition, input or usage.`;

export async function run(argv: string[]): Promise<number> {
  let args: ReturnType<typeof parse>;
  try {
    args = parse(argv);
  } catch (err) {
    return usage((err as Error).message);
  }
  if (args.values.help) {
    process.stdout.write(`${RUN_HELP}\n`);
    return 0;
  }
  if (args.values.retry !== undefined) return retry(args);
  if (args.values.from !== undefined || args.values.latest) return usage('--from and --latest go with --retry RUN_ID');
  if (args.positionals.length !== 1) return usage(args.positionals.length === 0 ? 'missing FILE' : 'give exactly one FILE');
  const file = args.positionals[0]!;

  const loaded = await loadDefinitionFile(file);
  if (!loaded.ok) {
    process.stderr.write(`trellis run: ${loaded.message}\n`);
    return 2;
  }
  const compiled = compile(loaded.value);
  if (!compiled.ok) {
    process.stderr.write(
      `✗ ${file}: ${compiled.errors.length} problem${compiled.errors.length === 1 ? '' : 's'}; nothing was run\n`,
    );
    for (const e of compiled.errors.slice(0, 50)) process.stderr.write(`${formatProblem(e, '✗')}\n`);
    return 2;
  }
  let input: unknown = {};
  if (args.values.input !== undefined) {
    const src = args.values.input;
    try {
      input = JSON.parse(src.startsWith('@') ? readFileSync(src.slice(1), 'utf8') : src);
    } catch (err) {
      const what = src.startsWith('@') ? `the input file ${src.slice(1)}` : '--input';
      return usage(`${what} is not valid JSON (${(err as Error).message}); pass e.g. --input '{"query":"Paris"}'`);
    }
  }

  const dbArg = args.values.db ?? process.env.TRELLIS_DB;
  if (dbArg?.startsWith('postgres')) return usage('trellis run keeps runs in SQLite; pass a file path to --db');
  const tempDir = dbArg === undefined ? mkdtempSync(join(tmpdir(), 'trellis-run-')) : undefined;
  const dbPath = dbArg ?? join(tempDir!, 'run.db');

  // A database a server is using is that server's: run through it instead (the lock says which).
  let lock: ReturnType<typeof acquireInstanceLock>;
  try {
    lock = acquireInstanceLock(dbPath, 'trellis run');
  } catch (err) {
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    if (!(err instanceof DatabaseInUseError)) throw err;
    process.stderr.write(`trellis run: ${err.message}\n`);
    return 2;
  }
  let store: Store;
  try {
    store = await openStore(dbPath);
  } catch (err) {
    lock.release();
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    process.stderr.write(`trellis run: ${err instanceof StoreOpenError ? err.message : toErrorInfo(err).message}\n`);
    return 2;
  }
  let trellis: Trellis;
  let vault: SecretVault;
  try {
    // Secrets of this database (its key file or TRELLIS_SECRET_KEY); a temporary database has none.
    vault = await SecretVault.open(store.db, secretKeySource(dbPath, process.env));
    const secrets = vaultSecretSource(vault, store.db);
    trellis = await createTrellis({ db: store, allowLoopback: true, recover: false, subWorkflows: 'trusted', secrets });
  } catch (err) {
    await store.close();
    lock.release();
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    process.stderr.write(`trellis run: ${toErrorInfo(err).message}\n`);
    return 2;
  }
  const { engine } = trellis;
  let stopDemo: (() => Promise<void>) | undefined;
  const release = async () => {
    await stopDemo?.();
    await trellis.close(0);
    await store.close();
    lock.release();
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  };
  try {
    if (args.values.demo) stopDemo = await registerDemoServices(trellis.connectors, vault, startDemoServices);
    // The checks a server makes when the workflow is saved, with advice for the terminal.
    const missing = await missingReferences(compiled.compiled.definition, trellis.connectors);
    if (missing.length > 0) {
      process.stderr.write(`✗ ${file}: ${missing.length} problem${missing.length === 1 ? '' : 's'}; nothing was run\n`);
      for (const e of missing.slice(0, 50)) process.stderr.write(`${formatProblem(e, '✗')}\n`);
      process.stderr.write(registryAdvice(missing, args.values.demo === true, dbArg !== undefined));
      await release();
      return 2;
    }
  } catch (err) {
    await release();
    process.stderr.write(`trellis run: ${toErrorInfo(err).message}\n`);
    return 2;
  }
  const progress = new Progress(process.stderr, { quiet: args.values.quiet ?? false, nodes: compiled.compiled.nodes.length });
  let runId: string | undefined;
  let interrupted = 0;
  const onSigint = () => {
    interrupted++;
    if (interrupted > 1) process.exit(130);
    progress.note('cancelling the run (Ctrl-C again to quit at once)…');
    if (runId) void engine.cancelRun(runId, 'cancelled from the terminal (Ctrl-C)');
  };
  process.on('SIGINT', onSigint);
  try {
    const definition = compiled.compiled.definition;
    const { workflowId, version } = await workflowForRun(store.db, definition.name, loaded.value);
    try {
      runId = (await engine.startRun({ workflowId, version, input, createdBy: 'cli' })).runId;
    } catch (err) {
      if (err instanceof TrellisError && err.code === 'INPUT_INVALID') {
        process.stderr.write(`trellis run: ${err.message}\n  ${inputAdvice(file)}\n`);
        return 2;
      }
      throw err;
    }
    if (interrupted) await engine.cancelRun(runId, 'cancelled from the terminal (Ctrl-C)');
    progress.start(runId, dbArg === undefined ? undefined : dbPath);
    const record = await follow(engine, runId, progress, args.values['approve-gates'] ?? false);
    progress.finish(record);
    process.stdout.write(`${JSON.stringify(args.values.json ? record : record.output, null, 2)}\n`);
    if (record.status === 'waiting') {
      process.stderr.write(
        tempDir
          ? 'the run stopped at a human gate; run again with --approve-gates, or with --db PATH and decide it from `trellis serve --db PATH`\n'
          : `the run is waiting at a human gate; decide it from \`trellis serve --db ${dbPath}\` (or run again with --approve-gates)\n`,
      );
    }
    return record.status === 'succeeded' ? 0 : 1;
  } finally {
    process.off('SIGINT', onSigint);
    await engine.shutdown(0);
    await release();
  }
}

/** `trellis run --retry RUN_ID --db PATH`: a retry of a run kept in a SQLite file (docs/retry.md). */
async function retry(args: ReturnType<typeof parse>): Promise<number> {
  const runId = args.values.retry!;
  const dbArg = args.values.db ?? process.env.TRELLIS_DB;
  if (dbArg === undefined) return usage('--retry needs --db PATH: the SQLite file that keeps the run to retry');
  if (dbArg.startsWith('postgres')) return usage('trellis run keeps runs in SQLite; pass a file path to --db');
  if (args.positionals.length > 1) return usage('give at most one FILE with --retry');
  if (args.values.input !== undefined) return usage('--retry runs with the input of the run it retries; drop --input');
  const from = args.values.from
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (from !== undefined && from.length === 0) return usage('--from needs node ids, e.g. --from summarize,publish');
  const file = args.positionals[0];
  let definition: unknown;
  if (file !== undefined) {
    const loaded = await loadDefinitionFile(file);
    if (!loaded.ok) {
      process.stderr.write(`trellis run: ${loaded.message}\n`);
      return 2;
    }
    const compiled = compile(loaded.value);
    if (!compiled.ok) {
      process.stderr.write(
        `✗ ${file}: ${compiled.errors.length} problem${compiled.errors.length === 1 ? '' : 's'}; nothing was run\n`,
      );
      for (const e of compiled.errors.slice(0, 50)) process.stderr.write(`${formatProblem(e, '✗')}\n`);
      return 2;
    }
    definition = loaded.value;
  }
  if (!existsSync(dbArg)) return usage(`there is no database at ${dbArg}; pass the --db PATH the run was kept in`);
  let trellis: Trellis;
  try {
    trellis = await createTrellis({ db: dbArg, allowLoopback: true, recover: false, subWorkflows: 'trusted' });
  } catch (err) {
    process.stderr.write(`trellis run: ${err instanceof StoreOpenError ? err.message : toErrorInfo(err).message}\n`);
    return 2;
  }
  const { engine } = trellis;
  const { db } = trellis.store;
  let newRunId: string | undefined;
  let interrupted = 0;
  const onSigint = () => {
    interrupted++;
    if (interrupted > 1) process.exit(130);
    if (newRunId) void engine.cancelRun(newRunId, 'cancelled from the terminal (Ctrl-C)');
  };
  process.on('SIGINT', onSigint);
  try {
    const original = await engine.getRun(runId);
    if (!original) {
      process.stderr.write(`trellis run: no run ${runId} in ${dbArg}\n`);
      return 2;
    }
    const workflow = await getWorkflow(db, original.workflowId);
    if (!workflow || workflow.deletedAt !== null) {
      process.stderr.write(`trellis run: the workflow of run ${runId} was deleted; its runs cannot be retried\n`);
      return 2;
    }
    let latestVersion: number | undefined;
    if (definition !== undefined) latestVersion = await addVersion(db, workflow.id, definition, 'cli');
    else if (args.values.latest) latestVersion = workflow.latestVersion;
    let result: Awaited<ReturnType<typeof engine.retryRun>>;
    try {
      result = await engine.retryRun({
        runId,
        ...(from ? { from } : {}),
        ...(latestVersion !== undefined ? { latestVersion } : {}),
        createdBy: 'cli',
      });
    } catch (err) {
      if (err instanceof TrellisError && err.category === 'user') {
        process.stderr.write(`trellis run: ${err.message}\n`);
        return 2;
      }
      throw err;
    }
    newRunId = result.runId;
    const targetDef = (await trellis.store.runs.getDefinition(workflow.id, latestVersion ?? original.version)) ?? { nodes: [] };
    const progress = new Progress(process.stderr, {
      quiet: args.values.quiet ?? false,
      nodes: (targetDef as { nodes: unknown[] }).nodes.length,
    });
    progress.start(newRunId, dbArg);
    progress.note(
      `retry of run ${runId}: ${result.reused} node${result.reused === 1 ? '' : 's'} reused${result.costSavedUsd ? `, $${result.costSavedUsd.toFixed(4)} saved` : ''}`,
    );
    if (interrupted) await engine.cancelRun(newRunId, 'cancelled from the terminal (Ctrl-C)');
    const record = await follow(engine, newRunId, progress, args.values['approve-gates'] ?? false);
    progress.finish(record);
    process.stdout.write(`${JSON.stringify(args.values.json ? record : record.output, null, 2)}\n`);
    if (record.status === 'waiting') {
      process.stderr.write(
        `the retry is waiting for a decision; decide it from \`trellis serve --db ${dbArg}\` (or retry again with --approve-gates)\n`,
      );
    }
    return record.status === 'succeeded' ? 0 : 1;
  } finally {
    process.off('SIGINT', onSigint);
    await trellis.close(0);
  }
}

/** Streams the run's events to the progress display; decides gates as asked; resolves with the record. */
async function follow(engine: Engine, runId: string, progress: Progress, approveGates: boolean): Promise<RunRecord> {
  const interactive = process.stdin.isTTY === true && process.stderr.isTTY === true;
  const asking = new Set<string>();
  return new Promise<RunRecord>((resolve, reject) => {
    const finish = () => {
      sub.close();
      engine.getRun(runId).then((r) => resolve(r!), reject);
    };
    const sub = engine.subscribe(runId, {
      after: 0,
      onEvent: (e: RunEvent) => {
        progress.event(e);
        if (e.type === 'node.waiting' && e.nodeId) {
          const nodeId = e.nodeId;
          if (approveGates)
            void engine.decideGate(runId, nodeId, { approved: true, by: 'cli', comment: 'approved by --approve-gates' });
          else if (interactive && !asking.has(nodeId)) {
            asking.add(nodeId);
            void ask(progress, e.data.prompt, nodeId).then(async (d) => {
              asking.delete(nodeId);
              await engine.decideGate(runId, nodeId, { by: 'cli', ...d });
            });
          }
        }
        if (e.type === 'run.waiting' && !approveGates && !interactive) finish();
      },
      onEnd: finish,
      onError: (error) => {
        sub.close();
        reject(TrellisError.fromInfo(error));
      },
    });
  });
}

async function ask(progress: Progress, prompt: string, nodeId: string): Promise<{ approved: boolean; comment?: string }> {
  progress.pause();
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question(`\n? ${nodeId}: ${prompt} [y/N, or a comment to reject with] `)).trim();
    if (/^y(es)?$/i.test(answer)) return { approved: true };
    return answer && !/^n(o)?$/i.test(answer) ? { approved: false, comment: answer } : { approved: false };
  } finally {
    rl.close();
    progress.resume();
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      input: { type: 'string' },
      db: { type: 'string' },
      json: { type: 'boolean' },
      'approve-gates': { type: 'boolean' },
      demo: { type: 'boolean' },
      retry: { type: 'string' },
      from: { type: 'string' },
      latest: { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function usage(message: string): number {
  process.stderr.write(`trellis run: ${message}\n\n${RUN_HELP}\n`);
  return 2;
}
