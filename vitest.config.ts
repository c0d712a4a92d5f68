import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'packages/*/test/**/*.test.tsx'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration suites spawn processes and servers; two cores are the norm here.
    maxWorkers: 2,
  },
});
