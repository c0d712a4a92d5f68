/** Response types, derived from the API schemas (so they are what a response parses to). */
import type { z } from 'zod';
import type { agentSchema } from './schemas/agents.ts';
import type { problemSchema } from './schemas/common.ts';
import type {
  decisionResultSchema,
  runEventSchema,
  runRecordSchema,
  runSummarySchema,
  startedRunSchema,
} from './schemas/runs.ts';
import type { secretInfoSchema } from './schemas/secrets.ts';
import type { templateSchema } from './schemas/templates.ts';
import type { toolInfoSchema, toolServerSchema } from './schemas/tool-servers.ts';
import type {
  createdWorkflowSchema,
  validateResultSchema,
  versionDetailSchema,
  workflowDetailSchema,
  workflowListItemSchema,
} from './schemas/workflows.ts';

export type { SocketMessage } from './schemas/runs.ts';

/** An error response body (RFC 9457 problem+json). */
export type Problem = z.output<typeof problemSchema>;
/** A registered A2A agent with its card and skills. */
export type Agent = z.output<typeof agentSchema>;
/** `POST /workflows` and `PUT /workflows/:id`: the saved workflow with its compiled summary. */
export type CreatedWorkflow = z.output<typeof createdWorkflowSchema>;
/** A human-gate decision as recorded. */
export type DecisionResult = z.output<typeof decisionResultSchema>;
/** One event of a run's log. */
export type RunEvent = z.output<typeof runEventSchema>;
/** The whole run record: every node with its status, attempts, input, output and cost. */
export type RunRecord = z.output<typeof runRecordSchema>;
/** A run as listed. */
export type RunSummary = z.output<typeof runSummarySchema>;
/** A secret's name, scope and description (never its value). */
export type SecretInfo = z.output<typeof secretInfoSchema>;
/** What starting a run answers. */
export type StartedRun = z.output<typeof startedRunSchema>;
/** A workflow template. */
export type Template = z.output<typeof templateSchema>;
/** One MCP tool as a tool_call node names it (`<server>/<tool>`). */
export type ToolInfo = z.output<typeof toolInfoSchema>;
/** A registered MCP tool server with its tools. */
export type ToolServer = z.output<typeof toolServerSchema>;
/** `POST /workflows/validate`. */
export type ValidateResult = z.output<typeof validateResultSchema>;
/** `GET /workflows/:id`: the latest version with its definition. */
export type WorkflowDetail = z.output<typeof workflowDetailSchema>;
/** A workflow in a list, with its newest run. */
export type WorkflowListItem = z.output<typeof workflowListItemSchema>;
/** One stored version of a workflow, with its definition. */
export type WorkflowVersion = z.output<typeof versionDetailSchema>;
