/**
 * JSONata's built-in function names (jsonata 2.2). They are variables in JSONata's grammar
 * (`$count(...)`), so a node may not take one of these as its id: `$count` would be ambiguous.
 * `now` and `millis` are bound per evaluation rather than in the static frame but are built-ins too.
 */
export const JSONATA_BUILTINS: ReadonlySet<string> = new Set([
  'sum',
  'count',
  'max',
  'min',
  'average',
  'string',
  'substring',
  'substringBefore',
  'substringAfter',
  'lowercase',
  'uppercase',
  'length',
  'trim',
  'pad',
  'match',
  'contains',
  'replace',
  'split',
  'join',
  'formatNumber',
  'formatBase',
  'formatInteger',
  'parseInteger',
  'number',
  'floor',
  'ceil',
  'round',
  'abs',
  'sqrt',
  'power',
  'random',
  'boolean',
  'not',
  'map',
  'zip',
  'filter',
  'single',
  'reduce',
  'sift',
  'keys',
  'lookup',
  'append',
  'exists',
  'spread',
  'merge',
  'reverse',
  'each',
  'error',
  'assert',
  'type',
  'sort',
  'shuffle',
  'distinct',
  'base64encode',
  'base64decode',
  'encodeUrlComponent',
  'encodeUrl',
  'decodeUrlComponent',
  'decodeUrl',
  'eval',
  'toMillis',
  'fromMillis',
  'clone',
  'now',
  'millis',
]);

/** The variable that holds the run's input in every binding and expression. */
export const CONTEXT_VARIABLE = 'context';
/** Inside a `map` node's `do` body: the current item and its 0-based position. */
export const ITEM_VARIABLE = 'item';
export const INDEX_VARIABLE = 'index';

/**
 * Names of Object.prototype members: a scope is a plain object keyed by node id, and a node
 * called `__proto__` would replace the scope's prototype instead of adding a variable.
 */
const OBJECT_MEMBERS: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));

/** Names no node may take: the scope's own variables, JSONata's built-ins, Object.prototype's members. */
export function isReservedName(name: string): boolean {
  return (
    name === CONTEXT_VARIABLE ||
    name === 'run' ||
    name === 'secrets' ||
    name === ITEM_VARIABLE ||
    name === INDEX_VARIABLE ||
    JSONATA_BUILTINS.has(name) ||
    OBJECT_MEMBERS.has(name)
  );
}
