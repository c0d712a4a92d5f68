/**
 * `trellis` command dispatcher. Each command lives in its own module under `commands/` and
 * returns its exit code; nothing here calls process.exit, so commands stay testable.
 */
export type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {};

/** Registers a command; command modules call this from `commands/index.ts`. */
export function registerCommand(name: string, summary: string, load: () => Promise<Command>): void {
  COMMANDS[name] = { summary, load };
}

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length), 8);
  const lines = Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(width)}  ${c.summary}`);
  return [
    'trellis — durable DAG workflows that orchestrate AI agents and tools',
    '',
    'Usage: trellis <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Run `trellis <command> --help` for the options of a command.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  await import('./commands/index.ts');
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${help()}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write('trellis 0.1.0\n');
    return 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    process.stderr.write(`trellis: unknown command '${name}'\n\n${help()}\n`);
    return 2;
  }
  return (await cmd.load())(rest);
}
