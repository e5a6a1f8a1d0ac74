import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Suites and fixtures import savedsyn by its package name, as a user does;
  // here that is the sources, not the compiled package.
  resolve: {
    alias: [
      { find: /^savedsyn\/vitest$/, replacement: fileURLToPath(new URL('./api/vitest.ts', import.meta.url)) },
      { find: /^savedsyn$/, replacement: fileURLToPath(new URL('./api/index.ts', import.meta.url)) },
    ],
  },
  test: {
    // Only test/ holds suites: model/spec/ is the executable specification.
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Property suites run thousands of cases; the budget is per file.
    testTimeout: 240_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Most suites start child processes and wait on them, and a child
    // starting up leaves a core idle for a while: three files at a time keep
    // two cores busy (measured: about a fifth off the whole run).
    maxWorkers: 3,
    // Suites run campaigns and checks of their own: under a CI job they must
    // not write to the job's summary page.
    env: { GITHUB_STEP_SUMMARY: '' },
    coverage: { include: ['model/**', 'properties/**', 'fuzz/**', 'reports/**/*.ts', 'cli/**', 'api/**'] },
  },
});
