/**
 * Definition checks at the API's edge: the compiler's every problem, reported as 422
 * with `errors`, plus the size limit (413). A definition is compiled once here per save; the
 * engine caches its own compiled form per version.
 */

import { type ConnectorRegistries, checkConnectorReferences } from '@trellis/connectors';
import {
  type CompiledSummary,
  checkWorkflowReferences,
  compile,
  secretUses,
  summarize,
  type ValidationError,
  type WorkflowDefinition,
} from '@trellis/core';
import { type Database, lookupWorkflowRef, type SecretVault, scopeAllows } from '@trellis/store';
import type { Kysely } from 'kysely';
import { MAX_JSON_DEPTH, measureJson } from './http/json-limits.ts';
import { HttpProblem } from './http/problem.ts';

export type DefinitionCheck =
  | { valid: true; definition: WorkflowDefinition; errors: []; warnings: ValidationError[]; compiled: CompiledSummary }
  | { valid: false; errors: ValidationError[]; warnings: ValidationError[]; compiled: null };

/** Compiles a definition and summarises it, or lists every problem. Never throws for bad input. */
export function checkDefinition(definition: unknown): DefinitionCheck {
  const r = compile(definition);
  if (!r.ok) return { valid: false, errors: r.errors, warnings: r.warnings, compiled: null };
  return { valid: true, definition: r.compiled.definition, errors: [], warnings: r.warnings, compiled: summarize(r.compiled) };
}

/** Refuses definitions whose JSON is larger than `maxBytes` (413). */
export function assertDefinitionSize(definition: unknown, maxBytes: number): void {
  const { depth, bytes } = measureJson(definition);
  if (depth > MAX_JSON_DEPTH)
    throw new HttpProblem('BAD_REQUEST', `the definition is nested more than ${MAX_JSON_DEPTH} levels deep; flatten it`);
  if (bytes > maxBytes)
    throw new HttpProblem('PAYLOAD_TOO_LARGE', `the definition is about ${bytes} bytes of JSON; the limit is ${maxBytes} bytes`);
}

/** A valid definition or a 422 problem carrying the compiler's errors. */
export function requireValidDefinition(definition: unknown, maxBytes: number): Extract<DefinitionCheck, { valid: true }> {
  assertDefinitionSize(definition, maxBytes);
  const check = checkDefinition(definition);
  if (!check.valid) {
    const first = check.errors[0];
    throw new HttpProblem(
      'DEFINITION_INVALID',
      `the definition has ${check.errors.length} problem(s)${first ? `; first: ${first.code} ${first.message}` : ''}`,
      { errors: check.errors },
    );
  }
  return check;
}

/**
 * Everything saving checks, without saving: the compiler's problems, then what the definition
 * names outside itself (registered agents and skills, MCP tools and their literal arguments:
 * `AGENT_NOT_FOUND`, `UNKNOWN_AGENT_SKILL`, `TOOL_NOT_FOUND`, `TOOL_INPUT_INVALID`).
 * `POST /workflows/validate` answers with this and `POST`/`PUT /workflows` refuse what it refuses,
 * so validating and saving the same body always agree. Without connector registries (contract
 * tests) only the compiler runs.
 */
export async function checkDefinitionForSave(
  definition: unknown,
  registries: ConnectorRegistries | undefined,
): Promise<DefinitionCheck> {
  const check = checkDefinition(definition);
  if (!check.valid || !registries) return check;
  const errors = await checkConnectorReferences(check.definition, registries);
  return errors.length > 0 ? { valid: false, errors, warnings: check.warnings, compiled: null } : check;
}

/** A definition that may be saved, or 413 (too large) / 422 with every problem in `errors`. */
export async function requireSavableDefinition(
  definition: unknown,
  maxBytes: number,
  registries: ConnectorRegistries | undefined,
): Promise<Extract<DefinitionCheck, { valid: true }>> {
  const check = requireValidDefinition(definition, maxBytes);
  if (!registries) return check;
  const errors = await checkConnectorReferences(check.definition, registries);
  if (errors.length > 0) {
    const first = errors[0];
    throw new HttpProblem(
      'DEFINITION_INVALID',
      `the definition names ${errors.length} unknown or misused agent(s)/tool(s)${first ? `; first: ${first.message}` : ''}`,
      { errors },
    );
  }
  return check;
}

/**
 * The `{{ $secrets.NAME }}` references of a definition that saving refuses (where they may
 * appear at all is the compiler's SECRET_NOT_ALLOWED_HERE): a secret that does not exist
 * (`SECRET_NOT_FOUND`), or whose scope does not allow the workflow (`SECRET_NOT_ALLOWED_HERE`).
 * `workflowId`: the workflow being saved; null for a new one (global secrets only); undefined
 * when unknown (validation without a workflow: existence only). Nothing without a secrets store.
 */
export async function secretProblems(
  definition: WorkflowDefinition,
  vault: SecretVault | undefined,
  workflowId: string | null | undefined,
): Promise<ValidationError[]> {
  const uses = secretUses(definition);
  if (uses.length === 0 || !vault) return [];
  const errors: ValidationError[] = [];
  for (const u of uses) {
    const s = vault.available ? await vault.get(u.name) : undefined;
    if (!s) {
      errors.push({
        code: 'SECRET_NOT_FOUND',
        message: vault.available
          ? `secret ${u.name} does not exist; create it with PUT /api/v1/secrets/${u.name} (or on the console's Secrets page)`
          : `secret ${u.name} cannot be used: this server has no secrets key (set TRELLIS_SECRET_KEY)`,
        nodes: [u.nodeId],
        path: u.path,
      });
    } else if (workflowId !== undefined && !scopeAllows(s.scope, workflowId ?? undefined)) {
      errors.push({
        code: 'SECRET_NOT_ALLOWED_HERE',
        message: `secret ${u.name} is scoped to ${s.scope}; this workflow may use global secrets and its own`,
        nodes: [u.nodeId],
        path: u.path,
      });
    }
  }
  return errors;
}

/** 422 with `errors` when `secretProblems` finds any. */
export async function requireUsableSecrets(
  definition: WorkflowDefinition,
  vault: SecretVault | undefined,
  workflowId: string | null,
): Promise<void> {
  const errors = await secretProblems(definition, vault, workflowId);
  if (errors.length > 0) {
    throw new HttpProblem(
      'DEFINITION_INVALID',
      `the definition uses ${errors.length} secret reference(s) it may not; first: ${errors[0]?.code} ${errors[0]?.message}`,
      { errors },
    );
  }
}

/**
 * Save-time checks of `workflow` nodes (sub-workflows): each names a workflow the owner can run
 * (`UNKNOWN_WORKFLOW`, `WORKFLOW_FORBIDDEN`), the references form no cycle across workflows
 * (`WORKFLOW_CYCLE`) and nest at most 10 deep (`WORKFLOW_DEPTH_EXCEEDED`): 422 with `errors`.
 */
export async function requireRunnableWorkflows(
  db: Kysely<Database>,
  definition: WorkflowDefinition,
  owner: string,
  selfId?: string,
): Promise<void> {
  const errors = await workflowReferenceProblems(db, definition, owner, selfId);
  if (errors.length > 0) {
    const first = errors[0];
    throw new HttpProblem(
      'DEFINITION_INVALID',
      `the definition's sub-workflows have ${errors.length} problem(s)${first ? `; first: ${first.code} ${first.message}` : ''}`,
      { errors },
    );
  }
}

/** The sub-workflow problems of a definition saved by `owner` (empty when it has none). */
export function workflowReferenceProblems(
  db: Kysely<Database>,
  definition: WorkflowDefinition,
  owner: string,
  selfId?: string,
): Promise<ValidationError[]> {
  return checkWorkflowReferences(definition, {
    ...(selfId === undefined ? {} : { selfId }),
    lookup: (ref, version) => lookupWorkflowRef(db, ref, version, owner),
  });
}
