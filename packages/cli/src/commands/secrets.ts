/**
 * `trellis secrets …`: the secrets store, offline (directly in the database, like `trellis token`).
 *
 *   trellis secrets generate-key                 prints a fresh 256-bit key (for TRELLIS_SECRET_KEY)
 *   trellis secrets rotate-key [--db …]          re-encrypts every secret under a new key, servers running
 *   trellis secrets list [--db …]                names, scopes, descriptions (never values)
 *   trellis secrets set NAME [--scope S] [--description D] [--db …]   the value is read from stdin
 *   trellis secrets delete NAME [--db …]
 *
 * The key comes from TRELLIS_SECRET_KEY, else (SQLite) the key file beside the database.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_DB } from '@trellis/server';
import {
  formatSecretKey,
  generateSecretKey,
  isPostgresUrl,
  openStore,
  parseSecretScope,
  SECRET_KEY_ENV,
  SecretVault,
  secretKeySource,
} from '@trellis/store';

export const SECRETS_HELP = `Usage:
  trellis secrets generate-key
  trellis secrets rotate-key [--db PATH|postgres://…]
  trellis secrets list [--db …]
  trellis secrets set NAME [--scope global|workflow:ID] [--description TEXT] [--db …]   (value on stdin)
  trellis secrets delete NAME [--db …]

The key: ${SECRET_KEY_ENV} (one key, or NEW,OLD during a rotation), else — SQLite only — the key
file beside the database (<db>.secret-key, mode 0600, created on first use).

Rotation without downtime:
  SQLite with its key file: run \`trellis secrets rotate-key --db PATH\` while the server runs;
    a new key is written beside the old one, every secret is re-encrypted, the old key is dropped,
    and the running server re-reads the key file on its own.
  ${SECRET_KEY_ENV} (PostgreSQL): 1) \`trellis secrets generate-key\`; 2) restart every process with
    ${SECRET_KEY_ENV}=NEW,OLD one by one; 3) \`${SECRET_KEY_ENV}=NEW,OLD trellis secrets rotate-key --db URL\`;
    4) later, drop OLD from every process.
`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

export async function secrets(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(rest);
  } catch (err) {
    process.stderr.write(`trellis secrets: ${(err as Error).message}\n\n${SECRETS_HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (sub === undefined || sub === '--help' || sub === '-h' || values.help) {
    process.stdout.write(SECRETS_HELP);
    return sub === undefined ? 2 : 0;
  }
  if (sub === 'generate-key') {
    process.stdout.write(`${formatSecretKey(generateSecretKey())}\n`);
    return 0;
  }
  if (!['rotate-key', 'list', 'set', 'delete'].includes(sub)) {
    process.stderr.write(`trellis secrets: unknown subcommand "${sub}"\n\n${SECRETS_HELP}`);
    return 2;
  }
  const target = values.db ?? process.env.TRELLIS_DB ?? DEFAULT_DB;
  const source = secretKeySource(target, process.env);
  if (!source) {
    process.stderr.write(
      `trellis secrets: ${isPostgresUrl(target) ? 'with PostgreSQL ' : ''}the key must be given: set ${SECRET_KEY_ENV} (\`trellis secrets generate-key\` prints one)\n`,
    );
    return 2;
  }
  const store = await openStore(target);
  try {
    const vault = await SecretVault.open(store.db, source);
    if (sub === 'rotate-key') {
      const r = await vault.rotate();
      process.stderr.write(
        `re-encrypted ${r.reencrypted} secret(s) under key ${r.keyId}${r.previousKeyId ? ` (was ${r.previousKeyId})` : ''}\n`,
      );
      if (!source.file) process.stderr.write(`every process may now drop the old key from ${SECRET_KEY_ENV}\n`);
      return 0;
    }
    if (sub === 'list') {
      for (const s of await vault.list()) {
        process.stdout.write(
          `${s.name}  ${s.scope}  updated ${s.updatedAt} by ${s.updatedBy}${s.description ? `  ${s.description}` : ''}\n`,
        );
      }
      return 0;
    }
    const name = positionals[0];
    if (!name) {
      process.stderr.write(`trellis secrets ${sub}: which secret? give its NAME\n`);
      return 2;
    }
    if (sub === 'delete') {
      if (!(await vault.delete(name))) {
        process.stderr.write(`trellis secrets delete: no secret ${name}\n`);
        return 1;
      }
      process.stderr.write(`deleted ${name}\n`);
      return 0;
    }
    const scope = parseSecretScope(values.scope ?? 'global');
    if (!scope) {
      process.stderr.write('trellis secrets set: --scope is "global" or "workflow:<workflow id>"\n');
      return 2;
    }
    if (process.stdin.isTTY) process.stderr.write(`value of ${name} (end with Ctrl-D): `);
    const value = await readStdin();
    if (value === '') {
      process.stderr.write('trellis secrets set: the value (on stdin) is empty\n');
      return 2;
    }
    const { created } = await vault.put(name, { value, scope, description: values.description, by: 'cli' });
    process.stderr.write(`${created ? 'created' : 'replaced'} ${name} (${scope})\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`trellis secrets ${sub}: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await store.close();
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      db: { type: 'string' },
      scope: { type: 'string' },
      description: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
