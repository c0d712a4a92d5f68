/**
 * @trellis/core/internal — helpers the other Trellis packages and the tests use that are not
 * part of the public surface (no stability promise between versions).
 */
/** The workflow definition format as zod schemas. */
export {
  agentCallBodySchema,
  baseNodeSchema,
  humanGateBodySchema,
  mapBodySchema,
  NODE_TYPE_FIELDS,
  toolCallBodySchema,
  transformBodySchema,
  workflowBodySchema,
} from './definition.ts';
/** Bare names read at the top of an expression. */
export type { BareName } from './expressions/bare-names.ts';
/** Bindings. */
export { type BindingString, MAX_BINDING_DEPTH } from './expressions/bindings.ts';
/** JSONata's built-in function names (jsonata 2.2). */
export { JSONATA_BUILTINS } from './expressions/builtins.ts';
/** Plain references. */
export { type PathStep, walkPath } from './expressions/path-reference.ts';
/** Secret references. */
export { type SecretLocation, secretLocation, secretsOnlyInQuery } from './expressions/secrets.ts';
/** `{{ expr }}` templates. */
export { splitTemplate, type TemplatePart } from './expressions/template.ts';
/** Per node, a stable hash of the node and everything upstream of it. */
export { type NodeHashes, nodeHashes } from './retry/closure-hash.ts';
/** Stable content hashes for retries. */
export { sha256Hex } from './retry/hash.ts';
/** Planning a retry. */
export type { NodePlan, RetryPlanInput, RetryPlanResult } from './retry/plan.ts';
/** The scheduler's rules for `map` nodes. */
export { mapOutput } from './scheduler/map.ts';
/** Recovery. */
export type { PersistedRunState } from './scheduler/rebuild.ts';
/** The scheduler's vocabulary. */
export type { ItemCode, MapState, NodeState } from './scheduler/types.ts';
