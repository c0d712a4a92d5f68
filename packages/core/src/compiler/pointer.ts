/** JSON pointers (RFC 6901) and short, readable renderings of user-supplied names. */

export function pointer(...segments: readonly (string | number)[]): string {
  let out = '';
  for (const s of segments) out += `/${String(s).replaceAll('~', '~0').replaceAll('/', '~1')}`;
  return out;
}

/** Longest piece of a user-supplied string quoted in a message, so a 10,000-char id stays readable. */
const SHOWN = 60;

/** A user-supplied name as shown in messages: truncated with its full length noted. */
export function shortName(s: string): string {
  return s.length <= SHOWN ? s : `${s.slice(0, SHOWN)}… (${s.length} characters)`;
}

/** The type of a JSON value, as named in messages. */
export function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}
