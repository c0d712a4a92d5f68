/**
 * What `trellis serve` prints about signing in. The permanent admin token is shown once, on the
 * first start, and only on a terminal: when the output goes to a pipe or a file (a service
 * manager, `docker logs`, CI) it may be kept, so the token is written instead to a file beside
 * the database that only the owner can read (PostgreSQL: not shown; make a token with
 * `trellis token create`). The console link carries a one-time code (5 minutes, single use),
 * never a token: on the first start always, later only on a terminal.
 */
import { writeFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

interface Started {
  url: string;
  adminToken: string | undefined;
  signInLink(): Promise<string>;
}

const isFileDb = (db: string) => !/^postgres(ql)?:\/\//.test(db) && db !== ':memory:' && !db.startsWith('file::memory:');

export async function signInLines(running: Started, db: string, terminal: boolean): Promise<string[]> {
  const lines: string[] = [];
  const first = running.adminToken !== undefined;
  if (running.adminToken !== undefined) {
    lines.push('', 'First start: an administrator was created.');
    if (terminal) lines.push('Its API token is shown only this once (it is not written anywhere):', `  ${running.adminToken}`);
    else if (isFileDb(db)) {
      const file = `${isAbsolute(db) ? db : resolve(db)}.admin-token`;
      writeFileSync(file, `${running.adminToken}\n`, { mode: 0o600 });
      lines.push(
        `Its API token is in ${file} (readable only by you), not printed: this output is not a terminal and may be kept in a log.`,
        '  Store it somewhere safe, then delete the file.',
      );
    } else
      lines.push(
        'Its API token is not printed: this output is not a terminal and may be kept in a log.',
        `  Make API tokens with \`npx trellis token create --name you --admin --db ${db.replace(/\/\/[^@/]*@/, '//…@')}\`.`,
      );
  }
  if (first || terminal) {
    const link = await running.signInLink();
    lines.push(`Sign in to the console (one-time link, valid for 5 minutes): ${link}`);
    if (first) lines.push('');
  } else
    lines.push(
      `Sign in to the console at ${running.url} with an API token (a new one: npx trellis token create --name you --admin)`,
    );
  return lines;
}
