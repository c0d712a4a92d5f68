/**
 * @trellis/console as a package: where the built app lives (for `trellis serve`), and the
 * framework-free parts of the builder and run view, reusable and tested without a browser.
 */

/** Directory of the built console (`npm run build -w packages/console`); serve it at `/` with SPA fallback. */
export const CONSOLE_DIST_URL: URL = new URL('../dist/', import.meta.url);

export { ApiClient } from './api/client.ts';
export { ApiError } from './api/problem.ts';
export { RunStream } from './api/run-stream.ts';
export { applyChange, type EditorChange } from './editor/changes.ts';
export { definitionFromDoc, docFromDefinition } from './editor/convert.ts';
export type { DraftEdge, DraftNode, EditorDoc } from './editor/doc.ts';
export { layoutPositions } from './editor/layout.ts';
export { validateDoc } from './editor/validate.ts';
