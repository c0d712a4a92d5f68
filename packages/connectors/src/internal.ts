/**
 * @trellis/connectors/internal — helpers the other Trellis packages and the tests use that are not
 * part of the public surface (no stability promise between versions).
 */
/** SPEC §6 in code. */
export {
  acceptsData,
  buildMessage,
  costOf,
  INTERRUPTED_STATES,
  isSettled,
  messageText,
  type OutgoingMessageSpec,
  outcomeOf,
  outputOf,
  type SimpleArtifact,
  type SimplePart,
  type TaskOutcome,
  TERMINAL_STATES,
} from './a2a/results.ts';
/** How Trellis talks to A2A agents. */
export { cardCandidates, classifyingFetch, toAgentError, withAbsoluteInterfaces } from './a2a/transport.ts';
/** JSON Schema checks of tool arguments against the tool's `inputSchema`, with Ajv (the validator the MCP SDK itself ships), compiled once per schema. */
export { schemaProblem } from './mcp/schema.ts';
/** The MCP tool-server registry. */
export { type CallScope, isConnectionLost } from './mcp/tool-server-registry.ts';
