/**
 * The peer in bench/postgres.ts: a DBOS Transact workflow of N steps, each step checkpointed
 * (DBOS writes one row per step to its system database), run in this child process against the
 * benchmark's PostgreSQL. Prints one JSON line: wall ms and this process's CPU ms over `reps`
 * runs of each chain length. The parent measures the database's CPU around it.
 *
 *   node --import tsx bench/lib/dbos-chain.ts <postgres-url> <steps,steps,…> <reps,reps,…> [warm-up steps]
 */
import { DBOS } from '@dbos-inc/dbos-sdk';

const [url, lengthsArg, repsArg, warmArg] = process.argv.slice(2);
if (!url || !lengthsArg || !repsArg) throw new Error('usage: dbos-chain.ts <url> <steps,…> <reps,…>');
const lengths = lengthsArg.split(',').map(Number);
const reps = repsArg.split(',').map(Number);
/** Steps run before each measured chain length (as the Trellis side does): the steady state. */
const warmSteps = Number(warmArg ?? 1000);

// A no-op step, as the Trellis chains use a no-op tool: what is measured is the checkpointing.
const step = async (i: number) => i;
async function chain(n: number): Promise<number> {
  let x = 0;
  for (let i = 0; i < n; i++) x = await DBOS.runStep(() => step(i), { name: 'noop' });
  return x;
}
const workflow = DBOS.registerWorkflow(chain, { name: 'chain' });

DBOS.setConfig({ name: 'trellis-bench', systemDatabaseUrl: url, logLevel: 'error', enableOTLP: false });
await DBOS.launch();
const out: { steps: number; runs: number; ms: number; cpuMs: number }[] = [];
try {
  for (const [k, n] of lengths.entries()) {
    const r = reps[k] ?? 1;
    // Warm-up: connections, prepared plans, JIT.
    for (let i = Math.ceil(warmSteps / n); i > 0; i--) await workflow(n);
    // Tell the parent to read the database's CPU now; it answers on stdin.
    process.stdout.write(`${JSON.stringify({ mark: 'start', steps: n })}\n`);
    await new Promise((res) => process.stdin.once('data', res));
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < r; i++) {
      const got = await workflow(n);
      if (got !== n - 1) throw new Error(`a DBOS chain returned ${got}`);
    }
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    out.push({ steps: n, runs: r, ms, cpuMs: (cpu.user + cpu.system) / 1000 });
    process.stdout.write(`${JSON.stringify({ mark: 'end', steps: n })}\n`);
    await new Promise((res) => process.stdin.once('data', res));
  }
} finally {
  await DBOS.shutdown();
}
process.stdout.write(`${JSON.stringify({ result: out })}\n`);
process.stdin.destroy();
