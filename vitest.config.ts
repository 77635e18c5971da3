import { defineConfig } from 'vitest/config';
import { splitByIsolation } from './test/support/isolation';

/** One local stack for both stack projects (global-setup.ts starts it once). */
const stackTier = { globalSetup: ['test/support/global-setup.ts'] };
const stackFiles = splitByIsolation([
  'test/integration/**/*.test.ts',
  'test/e2e/**/*.test.ts',
  'test/console/**/*.test.tsx',
  'test/browser/**/*.test.ts',
]);

/**
 * Three tiers, one run: `npm test` runs them all, as CI does.
 * - `unit`: pure code, no Java, no stack (`npm run test:unit`, seconds);
 * - `infra`: the CDK app synthesized and its bundles built, no stack (`npm run test:infra`);
 * - `stack`: integration, end-to-end, console component (happy-dom, against the stack's API) and
 *   browser tests against one local stack (one DynamoDB Local process, one table; tests isolate
 *   themselves by creating their own agencies). Its files share their worker's modules unless
 *   they change the process's state (`stack-isolated`: test/support/isolation.ts says which).
 */
export default defineConfig({
  test: {
    pool: 'forks',
    // Most tests wait on the engines (DynamoDB Local's JVM, the emulators, a browser), not on
    // this CPU: three files at a time keep a 2-core machine busy (vitest's default there is one).
    maxWorkers: 3,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
    // Passwords hashed at scrypt 2^14 instead of 2^17 (packages/domain/auth/passwords.ts): the
    // suite hashes hundreds, each half a second of CPU at the deployed cost.
    env: { PASSWORD_SCRYPT_LOG2N: '14' },
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'infra', include: ['test/infra/**/*.test.ts'] } },
      { extends: true, test: { name: 'stack', include: stackFiles.shared, isolate: false, ...stackTier } },
      { extends: true, test: { name: 'stack-isolated', include: stackFiles.isolated, ...stackTier } },
    ],
  },
});
