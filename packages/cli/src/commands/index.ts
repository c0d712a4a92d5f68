// Each command registers itself here; its module is loaded only when it runs.
import { registerCommand } from '../main.ts';

registerCommand('start', 'what `npm start` runs: `trellis serve --demo`', async () => (await import('./start.ts')).start);
registerCommand('validate', 'check a workflow definition: every problem, with its path', async () => {
  // The built command carries validate as one bundled file (scripts/build.mjs: the compiler and
  // its libraries in one module load instead of ~300), since it is the command people run in
  // editors and pre-commit hooks. From the sources (tests), the module itself.
  const bundled = './validate.bundle.js';
  if (import.meta.url.endsWith('.js')) {
    try {
      return ((await import(bundled)) as typeof import('./validate.ts')).validate;
    } catch (err) {
      if ((err as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    }
  }
  return (await import('./validate.ts')).validate;
});
registerCommand('schema', "print the definition's JSON Schema (for editors)", async () => (await import('./schema.ts')).schema);
registerCommand('run', 'run a workflow locally with live progress', async () => (await import('./run.ts')).run);
registerCommand(
  'serve',
  'the HTTP API, live streams, web console and an embedded runner',
  async () => (await import('./serve.ts')).serve,
);
registerCommand('token', 'create, list and revoke API tokens', async () => (await import('./token.ts')).token);
registerCommand(
  'secrets',
  'set, list, delete secrets; generate and rotate the encryption key',
  async () => (await import('./secrets.ts')).secrets,
);
registerCommand('migrate', 'apply database migrations', async () => (await import('./migrate.ts')).migrate);
registerCommand(
  'worker',
  'execute runs from a shared PostgreSQL database (no HTTP)',
  async () => (await import('./worker.ts')).worker,
);
