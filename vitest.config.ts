import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One local stack (one DynamoDB Local process, one table) for the whole run; tests
    // isolate themselves by creating their own agencies.
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    // Most tests wait on the engines (DynamoDB Local's JVM, the emulators), not on this CPU:
    // two files at a time keep a 2-core machine busy (vitest's default there is one).
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
    // Passwords hashed at scrypt 2^14 instead of 2^17 (packages/domain/auth/passwords.ts): the
    // suite hashes hundreds, each half a second of CPU at the deployed cost.
    env: { PASSWORD_SCRYPT_LOG2N: '14' },
  },
});
