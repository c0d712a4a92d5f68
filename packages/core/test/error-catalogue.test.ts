/**
 * The error catalogue is closed and complete: every code the compiler and the runtime name has
 * an entry, every code written in the sources has one, docs/errors.md lists exactly the
 * catalogue (same status, category and retryability), and the retry decision follows it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ERROR_CATALOGUE,
  ERROR_CODES,
  errorEntry,
  isErrorCode,
  isRetryableError,
  RUNTIME_CODES,
  TrellisError,
  VALIDATION_CODES,
} from '../src/index.ts';

const root = new URL('../../../', import.meta.url).pathname;

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (/\.tsx?$/.test(name)) out.push(p);
  }
  return out;
}

describe('the error catalogue', () => {
  it('has an entry for every validation and runtime code', () => {
    for (const code of [...VALIDATION_CODES, ...RUNTIME_CODES]) expect(ERROR_CATALOGUE, code).toHaveProperty(code);
  });

  it('has an entry for every error code written in the packages’ sources', () => {
    // `code: 'X'` and `code === 'X'` in sources name error codes, except Node's and Fastify's own
    // (ENOENT, FST_ERR_…), which are matched on, never reported.
    const foreign = /^(E[A-Z]+|ERR_[A-Z_]+|FST_ERR_[A-Z_]+|D\d+|SERVER)$/;
    const missing = new Set<string>();
    for (const pkg of readdirSync(join(root, 'packages'))) {
      const dir = join(root, 'packages', pkg, 'src');
      if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) continue;
      for (const file of sources(dir)) {
        const text = readFileSync(file, 'utf8');
        for (const m of text.matchAll(/code(?:: | === )'([A-Z][A-Z0-9_]+)'/g)) {
          const code = m[1]!;
          if (!foreign.test(code) && !isErrorCode(code)) missing.add(`${code} (${file.slice(root.length)})`);
        }
      }
    }
    expect([...missing]).toEqual([]);
  });

  it('every entry is well formed', () => {
    for (const code of ERROR_CODES) {
      const e = ERROR_CATALOGUE[code];
      expect(code).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(e.status, code).toBeGreaterThanOrEqual(400);
      expect(e.status, code).toBeLessThan(600);
      expect(['user', 'system', 'remote'], code).toContain(e.category);
      expect(['transient', 'permanent', 'never'], code).toContain(e.retry);
      expect(e.description.length, code).toBeGreaterThan(5);
    }
  });

  it('docs/errors.md lists every code, with its status, category and retryability, and nothing else', () => {
    const doc = readFileSync(join(root, 'docs/errors.md'), 'utf8');
    const rows = new Map<string, string[]>();
    for (const m of doc.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \| (\d{3}) \| (\w+) \| (\w+) \|/gm))
      rows.set(m[1]!, [m[2]!, m[3]!, m[4]!]);
    expect([...rows.keys()].sort()).toEqual([...ERROR_CODES].sort());
    for (const code of ERROR_CODES) {
      const e = ERROR_CATALOGUE[code];
      expect(rows.get(code), code).toEqual([String(e.status), e.category, e.retry]);
    }
  });

  it('HTTP_<status> codes are derived: 5xx, 408 and 429 transient, other statuses permanent', () => {
    expect(errorEntry('HTTP_503')).toMatchObject({ category: 'remote', retry: 'transient' });
    expect(errorEntry('HTTP_429').retry).toBe('transient');
    expect(errorEntry('HTTP_408').retry).toBe('transient');
    expect(errorEntry('HTTP_404').retry).toBe('permanent');
    expect(isErrorCode('HTTP_418')).toBe(true);
    expect(isErrorCode('NOT_A_CODE')).toBe(false);
    expect(errorEntry('NOT_A_CODE')).toMatchObject({ status: 500, retry: 'permanent' });
  });

  it('a TrellisError takes its category and retryability from its code unless told otherwise', () => {
    expect(new TrellisError('NETWORK_ERROR', 'x')).toMatchObject({ category: 'remote', retryable: true });
    expect(new TrellisError('AGENT_NOT_FOUND', 'x')).toMatchObject({ category: 'user', retryable: false });
    expect(new TrellisError('TOOL_ERROR', 'x', { retryable: true }).retryable).toBe(true);
    expect(new TrellisError('INTERNAL', 'x', { category: 'remote' }).category).toBe('remote');
  });

  it('the retry decision: `never` codes are final whatever the error says; otherwise the error’s flag', () => {
    for (const code of ERROR_CODES) {
      const never = ERROR_CATALOGUE[code].retry === 'never';
      expect(isRetryableError({ code, retryable: true }), code).toBe(!never);
      expect(isRetryableError({ code }), code).toBe(false);
    }
    for (const code of ['GATE_REJECTED', 'CANCELLED', 'EXPRESSION_ERROR', 'BUDGET_EXCEEDED', 'INPUT_INVALID', 'GATE_TIMEOUT'])
      expect(isRetryableError({ code, retryable: true }), code).toBe(false);
    expect(isRetryableError(new TrellisError('TIMEOUT', 'slow').toInfo())).toBe(true);
    expect(isRetryableError(new TrellisError('TIMEOUT', 'slow', { retryable: false }).toInfo())).toBe(false);
    expect(isRetryableError({ code: 'HTTP_503', retryable: true })).toBe(true);
  });
});
