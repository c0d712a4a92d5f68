/**
 * The README promises `--help` on every command: this sweeps every command `trellis --help`
 * lists (so a new command is covered without touching this test), with `--help` and `-h`, and
 * also each `token` subcommand. Each must exit 0 and print its usage on stdout, nothing on stderr.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../src/main.ts';

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    out += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    err += String(s);
    return true;
  });
  try {
    return { code: await main(argv), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe('every command has --help', () => {
  it('trellis --help lists the commands', async () => {
    const r = await capture(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Commands:/);
  });

  it('each listed command answers --help and -h with its usage (exit 0, nothing on stderr)', async () => {
    const list = (await capture(['--help'])).out;
    const names = [...list.slice(list.indexOf('Commands:')).matchAll(/^ {2}(\w[\w-]*)\s{2}/gm)].map((m) => m[1] as string);
    expect(names).toEqual(expect.arrayContaining(['validate', 'run', 'serve', 'worker', 'migrate', 'token', 'schema', 'start']));
    const argvs = [
      ...names.flatMap((n) => [
        [n, '--help'],
        [n, '-h'],
      ]),
      ['token', 'create', '--help'],
      ['token', 'list', '--help'],
      ['token', 'revoke', '--help'],
    ];
    for (const argv of argvs) {
      const r = await capture(argv);
      expect({ argv, code: r.code, err: r.err }).toEqual({ argv, code: 0, err: '' });
      expect(r.out, argv.join(' ')).toMatch(/^Usage:\s+trellis /);
    }
  });
});
