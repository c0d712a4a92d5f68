/**
 * Redaction: every occurrence of a secret's value — as sent, URL-encoded, JSON-escaped or
 * base64-encoded — becomes `[secret:NAME]`. Executors that send secrets pass everything that
 * comes back (outputs, error messages and details, log data) through one before it can reach a
 * run record, an event, a log line or an API response: a remote server that echoes the
 * credential back in a body or an error is the case this exists for.
 */
import { secretPlaceholder, TrellisError } from '@trellis/core';

export class SecretRedactor {
  /** [text to find, replacement], longest first so a value containing another is replaced whole. */
  private needles: [string, string][] = [];

  /** Remembers a value to hide; values shorter than 4 characters are hidden only as whole strings. */
  add(name: string, value: string): void {
    if (value === '') return;
    const forms = new Set([
      value,
      encodeURIComponent(value),
      JSON.stringify(value).slice(1, -1),
      Buffer.from(value).toString('base64'),
    ]);
    for (const f of forms) if (f.length >= 4 || f === value) this.needles.push([f, secretPlaceholder(name)]);
    this.needles.sort((a, b) => b[0].length - a[0].length);
  }

  get empty(): boolean {
    return this.needles.length === 0;
  }

  text(s: string): string {
    let out = s;
    for (const [needle, placeholder] of this.needles) if (out.includes(needle)) out = out.split(needle).join(placeholder);
    return out;
  }

  /** A deep copy of `v` with every string (and object key) redacted. */
  value<T>(v: T): T {
    if (this.needles.length === 0) return v;
    return this.walk(v, 0) as T;
  }

  /** The error with its message and details redacted (a TrellisError keeps code, category, retry advice). */
  error(err: unknown): unknown {
    if (this.needles.length === 0) return err;
    if (err instanceof TrellisError) {
      return new TrellisError(err.code, this.text(err.message), {
        category: err.category,
        retryable: err.retryable,
        retryAfterMs: err.retryAfterMs,
        details: err.details === undefined ? undefined : this.value(err.details),
      });
    }
    if (err instanceof Error) {
      const copy = new Error(this.text(err.message));
      copy.name = err.name;
      return copy;
    }
    return typeof err === 'string' ? this.text(err) : err;
  }

  private walk(v: unknown, depth: number): unknown {
    if (typeof v === 'string') return this.text(v);
    if (v === null || typeof v !== 'object' || depth > 200) return v;
    if (Array.isArray(v)) return v.map((x) => this.walk(x, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const key = this.text(k);
      const val = this.walk(x, depth + 1);
      if (key === '__proto__')
        Object.defineProperty(out, key, { value: val, enumerable: true, writable: true, configurable: true });
      else out[key] = val;
    }
    return out;
  }
}
