/**
 * `trellis token create --name N [--admin] [--expires-days D]`, `trellis token list`,
 * `trellis token revoke ID`: API tokens, managed directly in the database (no server needed).
 * A new token is printed once on stdout; only its SHA-256 is stored.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_DB } from '@trellis/server';
import { createToken, listTokens, openStore, PRINCIPAL_PATTERN, revokeToken } from '@trellis/store';

const USAGE = `Usage:
  trellis token create --name NAME [--admin] [--label LABEL] [--expires-days DAYS] [--db PATH]
  trellis token list [--db PATH]
  trellis token revoke TOKEN_ID [--db PATH]
`;

export async function token(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(rest);
  } catch (err) {
    process.stderr.write(`trellis token: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help || sub === undefined || sub === '--help' || sub === '-h') {
    process.stdout.write(USAGE);
    return sub === undefined ? 2 : 0;
  }
  const db = values.db ?? process.env.TRELLIS_DB ?? DEFAULT_DB;
  if (sub === 'create') {
    const name = values.name;
    if (name === undefined || name === '') {
      process.stderr.write(
        `trellis token create: --name is missing: say whose token it is (a user name), e.g. --name alice\n\n${USAGE}`,
      );
      return 2;
    }
    if (!PRINCIPAL_PATTERN.test(name)) {
      process.stderr.write(`trellis token create: --name '${name}' is not a user name: use letters, digits, _ . @ -\n\n${USAGE}`);
      return 2;
    }
    let expiresAt: string | null = null;
    if (values['expires-days'] !== undefined) {
      const days = Number(values['expires-days']);
      if (!Number.isFinite(days) || days <= 0) {
        process.stderr.write('trellis token create: --expires-days must be a positive number\n');
        return 2;
      }
      expiresAt = new Date(Date.now() + days * 86_400_000).toISOString();
    }
    const handle = await openStore(db);
    try {
      const { token: secret, info } = await createToken(handle.db, {
        principal: name,
        name: values.label ?? name,
        admin: values.admin === true,
        expiresAt,
      });
      process.stderr.write(
        `token ${info.id} for '${name}'${info.isAdmin ? ' (admin)' : ''}${expiresAt ? `, expires ${expiresAt}` : ''}; it is shown only once:\n`,
      );
      process.stdout.write(`${secret}\n`);
    } finally {
      await handle.close();
    }
    return 0;
  }
  if (sub === 'list') {
    const handle = await openStore(db);
    try {
      for (const t of await listTokens(handle.db)) {
        const state = t.revokedAt ? 'revoked' : t.expiresAt && Date.parse(t.expiresAt) < Date.now() ? 'expired' : 'active';
        process.stdout.write(`${t.id}  ${t.prefix}…  ${t.principal}${t.isAdmin ? ' (admin)' : ''}  ${t.name}  ${state}\n`);
      }
    } finally {
      await handle.close();
    }
    return 0;
  }
  if (sub === 'revoke') {
    const id = positionals[0];
    if (!id) {
      process.stderr.write(`trellis token revoke: which token? pass its id (see \`trellis token list\`)\n`);
      return 2;
    }
    const handle = await openStore(db);
    try {
      if (!(await revokeToken(handle.db, id))) {
        process.stderr.write(`trellis token revoke: no active token '${id}'\n`);
        return 1;
      }
      process.stderr.write(`revoked ${id}\n`);
    } finally {
      await handle.close();
    }
    return 0;
  }
  process.stderr.write(`trellis token: unknown subcommand '${sub}'\n\n${USAGE}`);
  return 2;
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      label: { type: 'string' },
      admin: { type: 'boolean' },
      'expires-days': { type: 'string' },
      db: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
