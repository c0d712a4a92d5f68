/**
 * Every command the README shows succeeds as written. The shell blocks of README.md are read
 * (so a new command there is covered without touching this test); each `npx trellis …` line
 * runs in bash, from a scratch folder that sees the repository's examples, with `npx trellis`
 * being the command built from these sources. `npm start` is run (on a free port, a scratch
 * database) until it prints its console URL. What cannot run here is listed explicitly, with why.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TRELLIS } from './helpers/bin.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** Commands that cannot run in a test, and why; anything else in a shell block must run. */
const NOT_RUN: { match: RegExp; why: string }[] = [
  { match: /^npm install && npm start$/, why: 'installing is what set up this test; `npm start` itself is run below' },
  { match: /^npm test$/, why: 'the test suite this test is part of' },
  {
    match: /db\.internal|^npx trellis serve --host 0\.0\.0\.0$|^npx trellis worker$/,
    why: 'the PostgreSQL example (db.internal)',
  },
  {
    match: /^BODY=|^SIG=|^curl .*\/hooks\//,
    why: 'the webhook recipe: needs a running server, a workflow with a webhook trigger and its secret ($WORKFLOW_ID, $SECRET)',
  },
];
const notRun = (c: string) => NOT_RUN.some((n) => n.match.test(c));

/** The commands of the README's shell blocks (comments dropped, `\` continuations joined). */
function readmeCommands(): string[] {
  const out: string[] = [];
  for (const block of README.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const joined = (block[1] as string).replace(/\\\n\s*/g, ' ');
    for (const raw of joined.split('\n')) {
      const line = raw.replace(/\s+#.*$/, '').trim();
      if (line && !line.startsWith('#')) out.push(line);
    }
  }
  return out;
}

/** `npx trellis` from a scratch folder: tsx is found from the repository, not from the folder. */
const TSX = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const bashTrellis = `trellis() { ${[process.execPath, ...TRELLIS.map((a) => (a === 'tsx' ? TSX : a))].map((a) => `'${a}'`).join(' ')} "$@"; }`;

describe('the README commands', () => {
  const commands = readmeCommands();

  it('are all accounted for: run below or listed as not runnable here, with why', () => {
    expect(commands.filter((c) => c.startsWith('npx trellis ') && !notRun(c)).length).toBeGreaterThanOrEqual(5);
    for (const c of commands) expect(c.startsWith('npx trellis ') || notRun(c), c).toBe(true);
    for (const n of NOT_RUN)
      expect(
        commands.some((c) => n.match.test(c)),
        `stale entry in NOT_RUN: ${n.match}`,
      ).toBe(true);
  });

  for (const command of commands.filter((c) => !notRun(c))) {
    it(`${command}`, { timeout: 120_000 }, () => {
      const cwd = mkdtempSync(join(tmpdir(), 'trellis-readme-'));
      symlinkSync(join(ROOT, 'examples'), join(cwd, 'examples'));
      const r = spawnSync('bash', ['-c', `${bashTrellis}\nset -o pipefail\n${command.replace(/^npx trellis /, 'trellis ')}`], {
        cwd,
        encoding: 'utf8',
        timeout: 110_000,
        env: { ...process.env, TRELLIS_DB: '', TRELLIS_ADMIN_TOKEN: '', NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      expect({ status: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ status: 0, stderr: '' });
    });
  }

  it('npm start (trellis start): serves the console with the demo and prints a sign-in link', { timeout: 120_000 }, async () => {
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.start).toMatch(/trellis\.mjs start$/);
    const db = join(mkdtempSync(join(tmpdir(), 'trellis-readme-')), 'trellis.db');
    const child = spawn(process.execPath, [...TRELLIS, 'start'], {
      env: { ...process.env, TRELLIS_DB: db, TRELLIS_PORT: '0', TRELLIS_ADMIN_TOKEN: '', TRELLIS_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += String(d);
    });
    const banner = await new Promise<string>((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`no banner: ${out}`)), 100_000);
      child.stdout.on('data', () => {
        if (/Demo: .*\n.*\n/.test(out)) {
          clearTimeout(timer);
          done(out);
        }
      });
      child.on('exit', (code) => fail(new Error(`exited ${code}: ${out}`)));
    });
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    expect(banner).toMatch(/Trellis is serving at http:\/\/127\.0\.0\.1:\d+/);
    expect(banner).toMatch(
      /Sign in to the console \(one-time link, valid for 5 minutes\): http:\/\/127\.0\.0\.1:\d+\/#code=trsi_/,
    );
  });
});
