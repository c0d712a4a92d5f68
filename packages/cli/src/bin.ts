/**
 * The command's entry from source (`node --conditions=@trellis/source --import tsx src/bin.ts`):
 * what the tests spawn, so they exercise the sources without a build. The installed command is
 * `bin/trellis.mjs`, which runs the compiled `dist/main.js`.
 */
import { main } from './main.ts';

process.exitCode = await main(process.argv.slice(2));
