/**
 * What `trellis run` does before a run starts, with advice for the command line (not for the
 * HTTP API): the demo services (`--demo`), the registry checks a server makes when a workflow
 * is saved, the workflow record the run belongs to, and what to say when the input is missing.
 */
import { existsSync } from 'node:fs';
import { type Connectors, checkConnectorReferences } from '@trellis/connectors';
import type { ValidationError, WorkflowDefinition } from '@trellis/core';
import { addVersion, createWorkflow, type Database, getVersion, listWorkflows } from '@trellis/store';
import type { Kysely } from 'kysely';

/** The owner of the workflows `trellis run` saves in its database. */
export const CLI_OWNER = 'cli';

/** Agents, skills and tools the definition names that are not registered where the run executes. */
export async function missingReferences(
  definition: WorkflowDefinition,
  connectors: Pick<Connectors, 'agents' | 'tools'>,
): Promise<ValidationError[]> {
  return checkConnectorReferences(definition, connectors);
}

/** A hint for the terminal after registry problems. */
export function registryAdvice(errors: ValidationError[], demo: boolean, dbGiven: boolean): string {
  if (!errors.some((e) => e.code === 'AGENT_NOT_FOUND' || e.code === 'TOOL_NOT_FOUND')) return '';
  const lines = ['agents and tools are looked up by name in the database the run is kept in.'];
  if (!demo) lines.push('  the examples use the demo agents and tools: add --demo to start them in this process.');
  lines.push(
    dbGiven
      ? '  or register them there first (with `trellis serve --db …`: the console, or the API).'
      : '  or pass --db PATH of a database where they are registered, or give an agent as { "url": … }.',
  );
  return `${lines.join('\n')}\n`;
}

/**
 * The workflow a CLI run belongs to: the same name and definition as an earlier `trellis run` in
 * this database reuse its workflow (a new definition becomes its next version), so repeated runs
 * do not pile up look-alike workflows in the database.
 */
export async function workflowForRun(
  db: Kysely<Database>,
  name: string,
  definition: unknown,
): Promise<{ workflowId: string; version: number }> {
  const page = await listWorkflows(db, { principal: CLI_OWNER, isAdmin: false, limit: 50, q: name });
  const same = page.items.find((w) => w.name === name && w.owner === CLI_OWNER);
  if (!same) {
    const { id, version } = await createWorkflow(db, { name, definition, owner: CLI_OWNER });
    return { workflowId: id, version };
  }
  const latest = await getVersion(db, same.id, same.latestVersion);
  if (latest && JSON.stringify(latest.definition) === JSON.stringify(definition)) {
    return { workflowId: same.id, version: same.latestVersion };
  }
  const version = await addVersion(db, same.id, definition, CLI_OWNER);
  if (version === undefined) {
    const { id, version: v } = await createWorkflow(db, { name, definition, owner: CLI_OWNER });
    return { workflowId: id, version: v };
  }
  return { workflowId: same.id, version };
}

/** Advice when the input does not match the inputSchema: the example input file next to the definition, if any. */
export function inputAdvice(file: string): string {
  const example = `${file.replace(/\.(json|ya?ml)$/i, '')}.input.json`;
  return existsSync(example)
    ? `an example input is in ${example}: add --input @${example}`
    : `pass the run's input with --input '{…}' or --input @file.json`;
}
