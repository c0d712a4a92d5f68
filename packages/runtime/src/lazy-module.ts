/**
 * Dependencies a process may never need (the HTTP client for outbound calls, the JSON Schema
 * validator, the OpenTelemetry exporter) are loaded the first time they are used, not when the
 * runtime is imported: a server that only runs built-in nodes, or does not export traces, keeps
 * their code out of its memory (see docs/runtime.md, Memory). These packages are CommonJS, so
 * `require` returns the very instance an `import` would (one module cache).
 */
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

/** A function returning the module `id`, loaded on its first call. */
export function lazyModule<T>(id: string): () => T {
  let mod: T | undefined;
  return () => {
    mod ??= load(id) as T;
    return mod;
  };
}
