// Each command registers itself here; its module is loaded only when it runs.
import { registerCommand } from '../main.ts';

registerCommand(
  'start',
  'what `npm start` runs: the main job as far as it exists',
  async () => (await import('./start.ts')).start,
);
