import { defineConfig } from 'vitest/config';

/**
 * The simulation's tests need no local stack: `npm run sim:test` runs them alone, without the
 * global setup that starts DynamoDB Local and the emulators (they also run in the full suite).
 */
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/unit/sim*.test.ts'],
    testTimeout: 60_000,
  },
});
