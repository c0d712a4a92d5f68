/**
 * Triggers pass: ids unique, cron expressions and time zones valid, a webhook's `input` mapping
 * parses and reads only `$body`, `$headers` and `$query`. Shape errors (unknown fields, wrong
 * types) were already reported by the shape pass.
 */
import { tryCompileExpression } from '../expressions/expression.ts';
import { checkCron, type TriggerDefinition } from '../triggers.ts';
import { pointer, shortName } from './pointer.ts';
import type { Problems } from './problems.ts';

/** The variables a webhook's input mapping may read. */
export const WEBHOOK_INPUT_VARIABLES: readonly string[] = ['body', 'headers', 'query'];

export function checkTriggers(triggers: readonly TriggerDefinition[] | undefined, p: Problems): void {
  if (!triggers) return;
  const seen = new Map<string, number>();
  for (const [i, t] of triggers.entries()) {
    const first = seen.get(t.id);
    if (first !== undefined)
      p.error(
        'INVALID_TRIGGER',
        `trigger id "${shortName(t.id)}" is used twice (triggers ${first} and ${i}); trigger ids must be unique`,
        pointer('triggers', i, 'id'),
      );
    else seen.set(t.id, i);
    switch (t.type) {
      case 'schedule': {
        const c = checkCron(t.cron, t.timezone);
        if (!c.ok)
          p.error(
            'INVALID_TRIGGER',
            c.message,
            pointer('triggers', i, c.message.startsWith('unknown time zone') ? 'timezone' : 'cron'),
          );
        continue;
      }
      case 'webhook': {
        if (t.input === undefined) continue;
        const r = tryCompileExpression(t.input);
        if (!r.ok) {
          p.error('EXPRESSION_SYNTAX', `JSONata does not parse: ${r.error.message}`, pointer('triggers', i, 'input'));
          continue;
        }
        for (const v of r.expression.variables)
          if (!WEBHOOK_INPUT_VARIABLES.includes(v))
            p.error(
              'UNKNOWN_BINDING_REFERENCE',
              `a webhook's input mapping can read $body, $headers and $query, not $${shortName(v)}`,
              pointer('triggers', i, 'input'),
            );
        continue;
      }
      default: {
        const never: never = t;
        void never;
      }
    }
  }
}
