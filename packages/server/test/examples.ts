/**
 * The repository's examples as `startTrellisServer` options: built-in templates, demo workflows
 * and the demo services from source (the `trellis` command passes its compiled copies instead).
 */
import { fileURLToPath } from 'node:url';
import { startDemoServices } from '../../../examples/demo/services.ts';

export const EXAMPLE_OPTIONS = {
  examplesDir: fileURLToPath(new URL('../../../examples/', import.meta.url)),
  demoServices: startDemoServices,
};
