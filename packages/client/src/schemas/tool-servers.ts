/** API shapes of the MCP tool-server registry (SPEC §6: `{ id, name, tools: [{ name, description, inputSchema }] }`). */
import { z } from 'zod';
import { registrationHeaders } from './agents.ts';

export const toolSchema = z.object({
  name: z.string().describe("The tool's name on its server."),
  description: z.string().optional(),
  inputSchema: z.record(z.string(), z.unknown()).describe('JSON Schema of its arguments.'),
});

export const toolServerSchema = z.object({
  id: z.string(),
  name: z.string().describe('Prefixes its tools: `<name>/<tool>`.'),
  transport: z.enum(['http', 'stdio']),
  url: z.string().nullable().describe('Streamable HTTP endpoint (null for stdio).'),
  command: z.string().nullable().describe('stdio command (null for HTTP).'),
  args: z
    .array(z.string())
    .optional()
    .describe('stdio arguments; shown to administrators and the creator only, since they may carry secrets.'),
  tools: z.array(toolSchema),
  headers: z
    .record(z.string(), z.string())
    .optional()
    .describe('Headers sent on every request (HTTP servers), as registered: `{{ $secrets.NAME }}` references, never values.'),
  sessions: z
    .enum(['run', 'shared'])
    .describe(
      '`run`: one MCP session (stdio: one process) per run, closed when the run ends; `shared`: one pooled session (a server declared stateless).',
    ),
  env: z
    .record(z.string(), z.string())
    .optional()
    .describe('stdio environment: `{{ $secrets.NAME }}` references as registered, other values `[hidden]`.'),
  cwd: z.string().nullable().optional().describe("stdio working directory (null: the host's)."),
  createdBy: z.string(),
  createdAt: z.string(),
  refreshedAt: z.string(),
});

export const toolServerListSchema = z.object({ items: z.array(toolServerSchema) });

/** One tool as a `tool_call` node names it. */
export const toolInfoSchema = toolSchema.extend({
  id: z.string().describe('`<server name>/<tool name>`: the value of a tool_call node’s `tool`.'),
  server: z.string().describe("The server's name."),
  serverId: z.string(),
});

export const toolListSchema = z.object({ items: z.array(toolInfoSchema) });

export const toolQuery = z.object({
  server: z.string().max(200).optional().describe("Only this server's tools (its name or id)."),
  q: z.string().max(200).optional().describe('Text matched against tool ids and descriptions (case-insensitive).'),
});

const name = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'a tool server name is 1-64 letters, digits, ".", "_" or "-"')
  .describe('1-64 letters, digits, ".", "_" or "-"; prefixes its tools.');

const url = z.string().max(2000).url().describe('The Streamable HTTP endpoint.');
const command = z.string().min(1).max(1000).describe('Executable to start (administrators only).');
const args = z.array(z.string().max(4000)).max(100);
const sessions = z
  .enum(['run', 'shared'])
  .optional()
  .describe(
    'How MCP sessions are scoped: `run` (default) — a session per run, so state a tool keeps never reaches another run or user; `shared` — one pooled session, only for a server that keeps no state.',
  );
const env = z
  .record(z.string(), z.string())
  .optional()
  .describe('stdio only: environment variables; values may hold `{{ $secrets.NAME }}` (administrators only).');
const cwd = z.string().max(4096).optional().describe('stdio only: absolute working directory (administrators only).');

/** The two shapes, as the OpenAPI document shows them. */
export const registerToolServerDoc = z.union([
  z.object({ name, url, headers: registrationHeaders, sessions }).strict(),
  z.object({ name, command, args: args.optional(), env, cwd, sessions }).strict(),
]);

/**
 * What is validated: one object, so that a body with neither or both of `url` and `command` gets
 * an error saying so rather than a union's bare "Invalid input".
 * Streamable HTTP: any signed-in user; stdio: administrators only (it starts a process on the host).
 */
export const registerToolServerBody = z
  .object({
    name,
    url: url.optional(),
    headers: registrationHeaders,
    command: command.optional(),
    args: args.optional(),
    env,
    cwd,
    sessions,
  })
  .strict()
  .superRefine((b, c) => {
    if ((b.url === undefined) === (b.command === undefined))
      c.addIssue({
        code: 'custom',
        message: 'give either "url" (Streamable HTTP) or "command" with "args" (stdio), not both and not neither',
        path: [b.url === undefined ? 'url' : 'command'],
      });
    if (b.url !== undefined && b.args !== undefined)
      c.addIssue({ code: 'custom', message: '"args" belongs to a stdio server ("command"), not to "url"', path: ['args'] });
    for (const k of ['env', 'cwd'] as const)
      if (b.url !== undefined && b[k] !== undefined)
        c.addIssue({ code: 'custom', message: `"${k}" belongs to a stdio server ("command"), not to "url"`, path: [k] });
  });
