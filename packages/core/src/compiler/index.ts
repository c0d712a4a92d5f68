export { DEFAULT_ESTIMATED_MS } from './build.ts';
export { type CompileOptions, compile, DEFAULT_MAX_EDGES, DEFAULT_MAX_NODES, validateDefinition } from './compile.ts';
export { type DefinitionTextResult, parseDefinitionText } from './parse-text.ts';
export { summarize } from './summary.ts';
export {
  checkWorkflowReferences,
  type WorkflowLookup,
  type WorkflowRefCheckOptions,
  type WorkflowReference,
  workflowReferences,
} from './workflow-refs.ts';
