/**
 * The save-time rule for `{{ $secrets.NAME }}`: allowed only in an `http.request` node's header
 * values and in the query of its URL; anywhere else (other fields, other node types, edge
 * conditions, the output, expressions that compute with a secret) is SECRET_NOT_ALLOWED_HERE.
 */
import type { NodeDefinition } from '../definition.ts';
import { secretLocation, secretReferenceName, secretsOnlyInQuery, splitSecretTemplate } from '../expressions/secrets.ts';

export const SECRETS_ONLY_MESSAGE =
  'secrets may be used only as {{ $secrets.NAME }} in the header values and the URL query of an http.request node (and in the headers of agent and tool-server registrations); a secret cannot be computed with, passed to other nodes or shown';

/**
 * Checks one `{{ }}` part of the string `s` at `path` (segments below `node`): undefined when the
 * part is not about secrets (analyse it as an expression), 'ok' when it is an allowed
 * reference, else the message saying why it is not allowed.
 */
export function checkSecretReference(
  node: NodeDefinition | undefined,
  path: readonly (string | number)[] | undefined,
  s: string,
  source: string,
): 'ok' | string | undefined {
  const name = secretReferenceName(source);
  if (name === undefined) return undefined; // `$secrets` inside a larger expression is caught by the variable check
  const where = node && path ? secretLocation(node, path) : undefined;
  if (!where) return `{{ $secrets.${name} }} is not allowed here: ${SECRETS_ONLY_MESSAGE}`;
  if (where.kind === 'url' && !secretsOnlyInQuery(splitSecretTemplate(s) ?? [])) {
    return `{{ $secrets.${name} }} may appear only in the URL's query (after "?"), e.g. https://api.example.com/v1?key={{ $secrets.${name} }}; send it in a header where the API allows`;
  }
  return 'ok';
}
