/**
 * `trellis schema`: prints the JSON Schema of a workflow definition, generated from the zod
 * schema that is also the source of the TypeScript types. Editors use it for autocompletion
 * (`"$schema"` in a definition, or the YAML language server's `# yaml-language-server: $schema=`).
 */
import { definitionJsonSchema } from '@trellis/core';

export const SCHEMA_HELP = `Usage: trellis schema [--compact]

Prints the JSON Schema of a workflow definition on stdout, e.g.
  npx trellis schema > trellis-workflow.schema.json

Options:
  --compact  one line instead of indented JSON
  -h, --help show this help`;

export async function schema(argv: string[]): Promise<number> {
  let compact = false;
  for (const arg of argv) {
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${SCHEMA_HELP}\n`);
      return 0;
    }
    if (arg === '--compact') compact = true;
    else {
      process.stderr.write(`trellis schema: unknown argument ${arg}\n\n${SCHEMA_HELP}\n`);
      return 2;
    }
  }
  process.stdout.write(`${JSON.stringify(definitionJsonSchema(), null, compact ? undefined : 2)}\n`);
  return 0;
}
