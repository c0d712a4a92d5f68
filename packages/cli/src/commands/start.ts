/** `npm start`: the server with the demo agents, tools and workflows (`trellis serve --demo`). */
import { serve } from './serve.ts';

export async function start(argv: string[]): Promise<number> {
  return serve(['--demo', ...argv]);
}
