import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Property suites run thousands of cases; the budget is per file.
    testTimeout: 240_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
