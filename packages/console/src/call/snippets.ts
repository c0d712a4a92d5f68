/**
 * The "How to call it" snippets of a workflow, built from `GET /workflows/:id/call`: MCP host
 * configurations (VS Code, Claude Desktop, any host that takes a URL and headers), an MCP
 * `tools/call`, an A2A `message/send` with curl, and an A2A client with the official
 * `@a2a-js/sdk`. The token is never the console's own session: snippets read it from
 * `TRELLIS_TOKEN` (or a prompt) — make one with `trellis token create`.
 */

export interface CallInfo {
  workflowId: string;
  canRun: boolean;
  mcp: { url: string; toolName: string | null };
  a2a: { cardUrl: string; endpoint: string; indexCardUrl: string; protocolVersions: string[] };
  rest: { runUrl: string };
}

export interface Snippet {
  id: string;
  title: string;
  /** Where it goes, or how to run it. */
  hint: string;
  language: 'json' | 'shell' | 'javascript';
  text: string;
}

type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  default?: unknown;
  examples?: unknown[];
  enum?: unknown[];
  const?: unknown;
};

/** An example value for a JSON schema: its default, example, first enum value, else by type. */
export function exampleFor(schema: Schema | undefined, depth = 0): unknown {
  if (!schema || depth > 4) return {};
  if (schema.default !== undefined) return schema.default;
  if (schema.const !== undefined) return schema.const;
  if (schema.examples && schema.examples.length > 0) return schema.examples[0];
  if (schema.enum && schema.enum.length > 0) return schema.enum[0];
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  switch (type) {
    case 'string':
      return 'text';
    case 'number':
    case 'integer':
      return 1;
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object':
    case undefined: {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(schema.properties ?? {})) out[k] = exampleFor(v, depth + 1);
      return out;
    }
    default:
      return null;
  }
}

const shellQuote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

export function callSnippets(info: CallInfo, inputSchema: unknown): Snippet[] {
  const example = exampleFor(inputSchema as Schema | undefined);
  const input = example !== null && typeof example === 'object' && !Array.isArray(example) ? example : {};
  const tool = info.mcp.toolName ?? '<tool name>';
  const vscode = {
    servers: {
      trellis: { type: 'http', url: info.mcp.url, headers: { Authorization: 'Bearer ${input:trellis-token}' } },
    },
    inputs: [{ type: 'promptString', id: 'trellis-token', description: 'Trellis API token', password: true }],
  };
  const claude = {
    mcpServers: {
      trellis: {
        command: 'npx',
        args: ['-y', 'mcp-remote', info.mcp.url, '--header', 'Authorization:${TRELLIS_AUTH}'],
        env: { TRELLIS_AUTH: 'Bearer trls_…' },
      },
    },
  };
  const generic = { mcpServers: { trellis: { type: 'http', url: info.mcp.url, headers: { Authorization: 'Bearer trls_…' } } } };
  const toolCall = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: tool, arguments: input } };
  const a2aBody = {
    jsonrpc: '2.0',
    id: 1,
    method: 'message/send',
    params: { message: { kind: 'message', messageId: 'msg-1', role: 'user', parts: [{ kind: 'data', data: input }] } },
  };
  const js = `// npm install @a2a-js/sdk   ·   TRELLIS_TOKEN=trls_… node call.mjs
import { randomUUID } from 'node:crypto';
import { Role, TaskState } from '@a2a-js/sdk';
import { ClientFactory, ClientFactoryOptions, DefaultAgentCardResolver, JsonRpcTransportFactory } from '@a2a-js/sdk/client';

const authed = (url, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set('Authorization', \`Bearer \${process.env.TRELLIS_TOKEN}\`);
  return fetch(url, { ...init, headers });
};
const factory = new ClientFactory(
  ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
    cardResolver: new DefaultAgentCardResolver({ fetchImpl: authed }),
    transports: [new JsonRpcTransportFactory({ fetchImpl: authed })],
  }),
);
const client = await factory.createFromUrl(${JSON.stringify(info.a2a.cardUrl)}, '');
const result = await client.sendMessage({
  tenant: '',
  message: {
    messageId: randomUUID(),
    role: Role.ROLE_USER,
    parts: [{ content: { $case: 'data', value: ${JSON.stringify(input)} }, filename: '', mediaType: 'application/json' }],
    taskId: '',
    contextId: '',
    extensions: [],
    metadata: {},
    referenceTaskIds: [],
  },
  metadata: {},
});
// A task: completed (the output is a data part), input-required (a gate asks; reply on the same
// taskId with a data part { approved: true }), or failed.
const parts = result.status?.message?.parts ?? [];
console.log(TaskState[result.status?.state], result.id);
for (const p of parts) console.log(JSON.stringify(p.content?.value, null, 2));
`;
  return [
    {
      id: 'mcp-vscode',
      title: 'MCP: VS Code',
      hint: '.vscode/mcp.json (asks for the token once)',
      language: 'json',
      text: JSON.stringify(vscode, null, 2),
    },
    {
      id: 'mcp-claude-desktop',
      title: 'MCP: Claude Desktop',
      hint: 'claude_desktop_config.json (through the mcp-remote bridge; put your token after "Bearer ")',
      language: 'json',
      text: JSON.stringify(claude, null, 2),
    },
    {
      id: 'mcp-host',
      title: 'MCP: any host with URL and headers',
      hint: 'e.g. Claude Code, Cursor, an agent framework',
      language: 'json',
      text: JSON.stringify(generic, null, 2),
    },
    {
      id: 'mcp-call',
      title: `MCP: the tools/call request for ${tool}`,
      hint: 'what a host sends once a session is open',
      language: 'json',
      text: JSON.stringify(toolCall, null, 2),
    },
    {
      id: 'a2a-curl',
      title: 'A2A: message/send with curl',
      hint: 'set TRELLIS_TOKEN first; answers with the task (completed, input-required at a gate, or failed)',
      language: 'shell',
      text: `curl -s ${shellQuote(info.a2a.endpoint)} \\\n  -H "Authorization: Bearer $TRELLIS_TOKEN" \\\n  -H 'Content-Type: application/json' \\\n  -d ${shellQuote(JSON.stringify(a2aBody))}`,
    },
    {
      id: 'a2a-js',
      title: 'A2A: a client with @a2a-js/sdk',
      hint: 'call.mjs (Node 20+)',
      language: 'javascript',
      text: js,
    },
  ];
}
