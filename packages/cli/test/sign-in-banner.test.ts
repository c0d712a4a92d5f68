/** What `trellis serve` prints about signing in: the admin token only on a terminal, never a token in the link. */
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { signInLines } from '../src/commands/sign-in-banner.ts';

const TOKEN = 'trls_0123456789abcdefghijABCDEFGHIJklmnop';
const started = (adminToken: string | undefined) => ({
  url: 'http://127.0.0.1:8080',
  adminToken,
  signInLink: async () => 'http://127.0.0.1:8080/#code=trsi_AAAAAAAAAAAAAAAAAAAAAAAA',
});

describe('sign-in banner', () => {
  it('prints the first-start token on a terminal, with a one-time code link', async () => {
    const text = (await signInLines(started(TOKEN), '/tmp/x.db', true)).join('\n');
    expect(text).toContain(`  ${TOKEN}`);
    expect(text).toMatch(/one-time link, valid for 5 minutes\): http:\/\/127\.0\.0\.1:8080\/#code=trsi_/);
  });

  it('writes the first-start token to a 0600 file instead when the output is not a terminal', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'trellis-banner-')), 't.db');
    const text = (await signInLines(started(TOKEN), db, false)).join('\n');
    expect(text).not.toContain(TOKEN);
    expect(readFileSync(`${db}.admin-token`, 'utf8').trim()).toBe(TOKEN);
    expect(statSync(`${db}.admin-token`).mode & 0o777).toBe(0o600);
    const pg = (await signInLines(started(TOKEN), 'postgres://u:secret@db/x', false)).join('\n');
    expect(pg).not.toContain(TOKEN);
    expect(pg).not.toContain('secret');
    expect(pg).toMatch(/trellis token create/);
  });

  it('later starts: a link on a terminal only, never a token', async () => {
    expect((await signInLines(started(undefined), '/tmp/x.db', true)).join('\n')).toMatch(/#code=trsi_/);
    const piped = (await signInLines(started(undefined), '/tmp/x.db', false)).join('\n');
    expect(piped).not.toMatch(/#code=|trls_/);
    expect(piped).toMatch(/with an API token/);
  });
});
