/**
 * Trellis embedded in a Node application: open a database, register a TypeScript function as a
 * tool, save a workflow, start a run, follow its events, await its result, close.
 * Run: `node embed.js [DB_FILE]` once compiled (CI runs it from source and from the packed packages).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTrellis } from '@trellis/connectors';

const trellis = await createTrellis({
  db: process.argv[2] ?? join(mkdtempSync(join(tmpdir(), 'trellis-embed-')), 'app.db'),
  tools: {
    // A `tool_call` node with "tool": "app.greet" calls this function with its resolved input.
    'app.greet': async (input) => ({ greeting: `Hello, ${(input as { name: string }).name}!` }),
  },
});
try {
  const { id, version } = await trellis.saveWorkflow({
    name: 'greet',
    nodes: [
      { id: 'greet', type: 'tool_call', tool: 'app.greet', input: { name: '$context.name' } },
      { id: 'shout', type: 'transform', expression: '$uppercase($greet.greeting)' },
    ],
    edges: [{ from: 'greet', to: 'shout' }],
    output: { message: '$shout' },
  });
  const { runId } = await trellis.engine.startRun({ workflowId: id, version, input: { name: 'Ada' } });
  trellis.engine.subscribe(runId, { after: 0, onEvent: (e) => console.log(`${e.seq} ${e.type} ${e.nodeId ?? ''}`) });
  const run = await trellis.engine.waitForRun(runId);
  console.log(`${run.status}: ${JSON.stringify(run.output)}`);
  process.exitCode = run.status === 'succeeded' ? 0 : 1;
} finally {
  await trellis.close();
}
