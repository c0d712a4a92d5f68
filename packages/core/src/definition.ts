/**
 * The workflow definition format (SPEC §1) as zod schemas. These schemas are the single source
 * of the definition's TypeScript types and of the JSON Schema that `trellis schema` prints.
 *
 * The schemas check *shape* only. Everything that needs the whole graph (ids unique, edges
 * point at nodes, no cycle, bindings upstream…) is the compiler's job, so that all problems can
 * be reported in one pass with precise codes.
 */
import { z } from 'zod';
import { triggerSchema } from './triggers.ts';

/** Node types, a closed union. */
export const NODE_TYPES = [
  'agent_call',
  'tool_call',
  'human_gate',
  'condition',
  'parallel',
  'join',
  'transform',
  'map',
  'workflow',
] as const;
export type NodeType = (typeof NODE_TYPES)[number];

/** The node types a `map` node's `do` body may take (one task per item). */
export const MAP_BODY_TYPES = ['agent_call', 'tool_call', 'transform', 'workflow', 'human_gate'] as const;
export type MapBodyType = (typeof MAP_BODY_TYPES)[number];

/** `map` defaults and bounds. */
export const MAP_DEFAULTS = { concurrency: 8, maxItems: 10_000, onItemError: 'fail' } as const;
/** The largest `maxItems` a map may declare. */
export const MAP_MAX_ITEMS_LIMIT = 1_000_000;
/** Default cap on the nesting of sub-workflows (a run's children, their children, …). */
export const DEFAULT_MAX_WORKFLOW_DEPTH = 10;

export const NODE_ID_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Longest accepted node id: long enough for any sane name, short enough to keep errors readable. */
export const MAX_NODE_ID_LENGTH = 128;

export const retryPolicySchema = z
  .object({
    maxAttempts: z.number().int().min(1).max(100).optional().describe('Attempts in all, the first included (default 1).'),
    initialDelayMs: z.number().int().min(0).max(86_400_000).optional().describe('Delay before the 2nd attempt (default 1000).'),
    backoffFactor: z.number().min(1).max(100).optional().describe('Multiplier per further attempt (default 2).'),
    maxDelayMs: z.number().int().min(0).max(86_400_000).optional().describe('Upper bound of one delay (default 60000).'),
    jitter: z.boolean().optional().describe('Randomise each delay (default true).'),
  })
  .strict();
export type RetryPolicy = z.output<typeof retryPolicySchema>;

/** Fields every node has. `type` is kept open here so that an unknown type is reported as INVALID_NODE_TYPE. */
export const baseNodeSchema = z.object({
  id: z.string().describe('Unique id, ^[A-Za-z_][A-Za-z0-9_]*$; referenced in bindings as $<id>.'),
  type: z.string().describe(`One of ${NODE_TYPES.join(', ')}.`),
  name: z.string().max(200).optional(),
  description: z.string().max(2000).optional(),
  input: z.unknown().optional().describe('Bindings: values, $node.path / $context.path references, {{ expr }} templates.'),
  retry: retryPolicySchema.optional(),
  timeoutMs: z.number().int().min(1).max(2_592_000_000).optional().describe('Per attempt.'),
  onError: z.enum(['fail', 'continue']).optional(),
  estimatedMs: z.number().min(0).optional().describe('Duration estimate used for the critical path (default 1).'),
  sideEffects: z
    .enum(['none', 'irreversible'])
    .optional()
    .describe(
      '"irreversible": the node does something that cannot be undone (a payment, an e-mail). A retry never runs it again without an approval.',
    ),
  /** Console layout hint; ignored by the engine. */
  position: z.object({ x: z.number(), y: z.number() }).optional(),
});

export const agentRefSchema = z.union([z.string().min(1), z.object({ url: z.string().min(1) }).strict()]);

const agentCallFields = z.object({
  agent: agentRefSchema.describe('Registered agent id or name, or { url }.'),
  skill: z.string().optional(),
  message: z.string().optional().describe('Template for the text part of the message.'),
});
const toolCallFields = z.object({ tool: z.string().min(1).describe('"<server>/<tool>" or a built-in such as http.request.') });
const humanGateFields = z.object({
  prompt: z.string().describe('Template shown to the person deciding.'),
  timeoutMs: z.number().int().min(1).optional(),
  onTimeout: z.enum(['approve', 'reject']).optional(),
});
const expressionFields = z.object({ expression: z.string().describe('JSONata.') });
const joinFields = z.object({ mode: z.enum(['all', 'any']).optional() });
const workflowFields = z.object({
  workflow: z.string().min(1).max(200).describe('The id or name of the workflow to run as a child run.'),
  version: z.number().int().min(1).optional().describe('Pinned version (default: the latest at run time).'),
});

/** Fields of a `map` body: a node without its id (the map's id names its items). */
const bodyBase = baseNodeSchema.omit({ id: true, position: true, estimatedMs: true, onError: true });
export const agentCallBodySchema = bodyBase.extend({ type: z.literal('agent_call') }).extend(agentCallFields.shape);
export const toolCallBodySchema = bodyBase.extend({ type: z.literal('tool_call') }).extend(toolCallFields.shape);
export const humanGateBodySchema = bodyBase.extend({ type: z.literal('human_gate') }).extend(humanGateFields.shape);
export const transformBodySchema = bodyBase.extend({ type: z.literal('transform') }).extend(expressionFields.shape);
export const workflowBodySchema = bodyBase.extend({ type: z.literal('workflow') }).extend(workflowFields.shape);
/** The `do` body of a map: one task, run once per item with `$item` and `$index` in scope. */
export const mapBodySchema = z.discriminatedUnion('type', [
  agentCallBodySchema,
  toolCallBodySchema,
  transformBodySchema,
  workflowBodySchema,
  humanGateBodySchema,
]);
export type MapBody = z.output<typeof mapBodySchema>;

const mapFields = z.object({
  items: z.string().describe('A binding ($node.path, $context.path or {{ expr }}) that resolves to the array to map over.'),
  concurrency: z.number().int().min(1).max(10_000).optional().describe('Items running at once (default 8).'),
  onItemError: z
    .enum(['fail', 'continue'])
    .optional()
    .describe('fail (default): the first item failure cancels the rest and fails the node; continue: collect errors.'),
  maxItems: z.number().int().min(1).max(MAP_MAX_ITEMS_LIMIT).optional().describe('More items fail the node (default 10000).'),
  do: mapBodySchema.describe('The task run per item (a node body without id); retry and timeoutMs apply per item.'),
});

/** The type-specific fields, by node type. Required ones missing are reported as MISSING_FIELD. */
export const NODE_TYPE_FIELDS = {
  agent_call: agentCallFields,
  tool_call: toolCallFields,
  human_gate: humanGateFields,
  condition: expressionFields,
  transform: expressionFields,
  parallel: z.object({}),
  join: joinFields,
  map: mapFields,
  workflow: workflowFields,
} as const satisfies Record<NodeType, z.ZodObject>;

export const agentCallNodeSchema = baseNodeSchema.extend({ type: z.literal('agent_call') }).extend(agentCallFields.shape);
export const toolCallNodeSchema = baseNodeSchema.extend({ type: z.literal('tool_call') }).extend(toolCallFields.shape);
/** A gate's `timeoutMs` is how long it waits for a decision (then `onTimeout`, default reject). */
export const humanGateNodeSchema = baseNodeSchema.extend({ type: z.literal('human_gate') }).extend(humanGateFields.shape);
export const conditionNodeSchema = baseNodeSchema.extend({ type: z.literal('condition') }).extend(expressionFields.shape);
export const transformNodeSchema = baseNodeSchema.extend({ type: z.literal('transform') }).extend(expressionFields.shape);
export const parallelNodeSchema = baseNodeSchema.extend({ type: z.literal('parallel') });
export const joinNodeSchema = baseNodeSchema.extend({ type: z.literal('join') }).extend(joinFields.shape);
/**
 * A map's own `retry`, `timeoutMs` and `input` have no meaning (they belong in `do`): the compiler
 * refuses them with a message saying so.
 */
export const mapNodeSchema = baseNodeSchema.extend({ type: z.literal('map') }).extend(mapFields.shape);
export const workflowNodeSchema = baseNodeSchema.extend({ type: z.literal('workflow') }).extend(workflowFields.shape);

/** A node, discriminated by `type`. */
export const nodeSchema = z.discriminatedUnion('type', [
  agentCallNodeSchema,
  toolCallNodeSchema,
  humanGateNodeSchema,
  conditionNodeSchema,
  transformNodeSchema,
  parallelNodeSchema,
  joinNodeSchema,
  mapNodeSchema,
  workflowNodeSchema,
]);
export type NodeDefinition = z.output<typeof nodeSchema>;
export type NodeOf<T extends NodeType> = Extract<NodeDefinition, { type: T }>;

export const edgeSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    condition: z.string().optional().describe('JSONata; the edge is taken only when it is true.'),
    label: z.string().max(200).optional(),
  })
  .strict();
export type EdgeDefinition = z.output<typeof edgeSchema>;

export const settingsSchema = z
  .object({
    maxConcurrency: z.number().int().min(1).max(10_000).optional(),
    timeoutMs: z.number().int().min(1).optional().describe("The run's deadline."),
    maxCostUsd: z.number().min(0).optional(),
  })
  .strict();
export type WorkflowSettings = z.output<typeof settingsSchema>;

/** A JSON Schema document (draft 2020-12 subset) for the run's input. */
export const jsonSchemaSchema = z.record(z.string(), z.unknown());

export const workflowDefinitionSchema = z
  .object({
    $schema: z.string().optional(),
    name: z.string().min(1).max(200),
    description: z.string().max(10_000).optional(),
    inputSchema: jsonSchemaSchema.optional(),
    settings: settingsSchema.optional(),
    nodes: z.array(nodeSchema).min(1),
    edges: z.array(edgeSchema).default([]),
    output: z.unknown().optional().describe("Bindings for the run's output; default: the sink nodes' outputs by id."),
    triggers: z
      .array(triggerSchema)
      .max(100)
      .optional()
      .describe('Schedules (cron) and webhooks that start runs of the latest version.'),
  })
  .strict();
export type WorkflowDefinition = z.output<typeof workflowDefinitionSchema>;
/** What a user may write (defaults not yet applied). */
export type WorkflowDefinitionInput = z.input<typeof workflowDefinitionSchema>;

/** The JSON Schema of a definition, for editors' autocompletion (`trellis schema`). */
export function definitionJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(workflowDefinitionSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, $id: 'https://trellis.dev/schema/workflow.json', title: 'Trellis workflow definition' };
}

/** Retry defaults of SPEC §1. */
export const RETRY_DEFAULTS = {
  maxAttempts: 1,
  initialDelayMs: 1000,
  backoffFactor: 2,
  maxDelayMs: 60_000,
  jitter: true,
} as const satisfies Required<RetryPolicy>;
