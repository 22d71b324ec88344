/**
 * @module vitest.config — the test runner's settings.
 *
 * Only `*.test.ts` files are tests: the runtime smoke programs under
 * test/runtimes/ are launched by runtimes.test.ts in Node, Deno and Chromium.
 * Two workers fit the 2-core machines this project is measured on.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 180_000,
    teardownTimeout: 10_000,
  },
});
