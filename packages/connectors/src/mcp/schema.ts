/**
 * JSON Schema checks of tool arguments against the tool's `inputSchema`, with Ajv (the
 * validator the MCP SDK itself ships), compiled once per schema.
 */
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';

const validator = new AjvJsonSchemaValidator();
const cache = new WeakMap<object, (input: unknown) => { valid: boolean; errorMessage?: string }>();

/** Undefined when `value` satisfies `schema`, else a readable description of what is wrong. */
export function schemaProblem(schema: Record<string, unknown>, value: unknown): string | undefined {
  let check = cache.get(schema);
  if (!check) {
    check = validator.getValidator(schema as never) as (input: unknown) => { valid: boolean; errorMessage?: string };
    cache.set(schema, check);
  }
  const result = check(value);
  return result.valid ? undefined : (result.errorMessage ?? 'does not match the input schema');
}
