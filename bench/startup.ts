/**
 * Start-up of the installed `trellis` command (compiled JavaScript, `bin/trellis.mjs`): the
 * median wall time of whole process runs of `trellis --version` and `trellis validate` on a
 * one-node file, as a ratio to `node -e 0` measured in the same sitting (runs interleaved, so
 * a busy machine slows all three alike). Target: at most 3×.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { userEnv } from './lib/compiled.ts';
import { printTable, type Row, writeResults } from './lib/report.ts';

const quick = process.argv.includes('--quick');
const runs = quick ? 7 : 15;
const bin = join(import.meta.dirname, '..', 'packages', 'cli', 'bin', 'trellis.mjs');
const file = join(mkdtempSync(join(tmpdir(), 'trellis-startup-')), 'one.json');
writeFileSync(file, JSON.stringify({ name: 'one', nodes: [{ id: 'a', type: 'transform', expression: '1' }], edges: [] }));

const commands: [string, string[]][] = [
  ['node -e 0', ['-e', '0']],
  ['trellis --version', [bin, '--version']],
  ['trellis validate (one node)', [bin, 'validate', file]],
];
const env = userEnv();
const times = commands.map(() => [] as number[]);
for (let i = 0; i < runs; i++) {
  commands.forEach(([name, args], k) => {
    const t = performance.now();
    const r = spawnSync(process.execPath, args, { env, encoding: 'utf8' });
    times[k]!.push(performance.now() - t);
    if (r.status !== 0) throw new Error(`${name} exited ${r.status}: ${r.stderr}`);
  });
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const base = median(times[0]!);
const rows: Row[] = commands.map(([name], k) => ({
  command: name,
  runs,
  'median ms': Math.round(median(times[k]!) * 10) / 10,
  'min ms': Math.round(Math.min(...times[k]!) * 10) / 10,
  'ratio to node -e 0': Math.round((median(times[k]!) / base) * 100) / 100,
  target: k === 0 ? '' : '≤ 3×',
}));
printTable(`Start-up of the installed command (Node ${process.version})`, rows);
process.stdout.write(`\nwritten ${writeResults('startup', { rows })}\n`);
