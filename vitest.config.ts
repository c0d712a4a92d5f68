import { defaultClientConditions, defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

/**
 * Inside the repository, `@trellis/*` imports resolve to each package's TypeScript sources
 * (the `@trellis/source` export condition), so tests need no build. Child processes the tests
 * spawn with `--import tsx` inherit the same condition through NODE_OPTIONS.
 */
const SOURCE = '@trellis/source';
if (!process.env.NODE_OPTIONS?.includes(`--conditions=${SOURCE}`)) {
  process.env.NODE_OPTIONS = [process.env.NODE_OPTIONS, `--conditions=${SOURCE}`].filter(Boolean).join(' ');
}

export default defineConfig({
  resolve: { conditions: [SOURCE, ...defaultClientConditions] },
  // Not Vite's `module` condition on the server side: packages such as @opentelemetry/* publish an
  // extensionless ESM build under it that Node cannot load; Node itself never picks `module`.
  ssr: { resolve: { conditions: [SOURCE, ...defaultServerConditions.filter((c) => c !== 'module')] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'packages/*/test/**/*.test.tsx'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration suites spawn processes and servers; two cores are the norm here.
    maxWorkers: 2,
  },
});
