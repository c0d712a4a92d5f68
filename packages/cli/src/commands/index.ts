// Each command registers itself here; its module is loaded only when it runs.
import { registerCommand } from '../main.ts';

registerCommand(
  'start',
  'what `npm start` runs: the main job as far as it exists',
  async () => (await import('./start.ts')).start,
);
registerCommand(
  'validate',
  'check a workflow definition: every problem, with its path',
  async () => (await import('./validate.ts')).validate,
);
registerCommand('schema', "print the definition's JSON Schema (for editors)", async () => (await import('./schema.ts')).schema);
