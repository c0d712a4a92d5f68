export * from './areas/agents.ts';
export * from './areas/analytics.ts';
export * from './areas/auth.ts';
export * from './areas/permissions.ts';
export * from './areas/run-history.ts';
export * from './areas/runnable.ts';
export * from './areas/scratch.ts';
export * from './areas/sign-in.ts';
export * from './areas/templates.ts';
export * from './areas/tool-servers.ts';
export * from './areas/triggers.ts';
export * from './areas/workflow-refs.ts';
export {
  addVersion,
  createWorkflow,
  getVersion,
  getWorkflow,
  lastRunsOf,
  listVersions,
  listWorkflows,
  type NewWorkflow,
  softDelete,
  type WorkflowInfo,
  type WorkflowListQuery,
  type WorkflowPage,
  type WorkflowVersionInfo,
  type WorkflowVersionSummary,
} from './areas/workflows.ts';
export * from './errors.ts';
export * from './instance-lock.ts';
export { MIGRATIONS } from './migrations/index.ts';
export * from './open.ts';
export * from './postgres.ts';
export * from './runs/index.ts';
export * from './runs/lease-store.ts';
export * from './runs/pg-run-store.ts';
export * from './secrets/index.ts';
export * from './sqlite.ts';
export type * from './tables.ts';
