import type { TestProject } from 'vitest/node';
import { buildConsole, consoleDist } from '#console/build';
import { checkJava } from '#local/dynamodb';
import { type LocalStack, type LocalStackInfo, startLocalStack } from '#local/stack';

declare module 'vitest' {
  export interface ProvidedContext {
    stack: LocalStackInfo;
  }
}

/**
 * Both stack projects (vitest.config.ts) run this setup; they share one stack, started by the
 * first and stopped after the last. Kept on globalThis: each project may load this module anew.
 */
interface SharedStack {
  started: Promise<LocalStack>;
  users: number;
  fatal?: Error;
}
const shared = globalThis as { testStack?: SharedStack };

export async function setup(project: TestProject) {
  shared.testStack ??= { started: start(), users: 0 };
  shared.testStack.users++;
  project.provide('stack', (await shared.testStack.started).info);
}

export async function teardown() {
  const state = shared.testStack;
  if (!state || --state.users > 0) return;
  shared.testStack = undefined;
  await (await state.started).stop();
  if (state.fatal) throw state.fatal;
}

async function start(): Promise<LocalStack> {
  const javaProblem = checkJava();
  if (javaProblem) throw new Error(javaProblem);
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  process.env.PASSWORD_SCRYPT_LOG2N ??= '14'; // the test stack's handlers hash cheaply too (vitest.config.ts)
  const verbose = Boolean(process.env.STACK_LOG);
  // The browser tests drive the console this stack serves (built only when its sources changed).
  await buildConsole();
  // The contract's validators, compiled here once for the document as it is, before any test file loads them.
  await import('./contract');
  const stack = await startLocalStack({
    consoleDist,
    queueVisibilitySeconds: 1,
    // The stream sources' batching windows (the usage rollups' 5 s) cut short: the pipeline idles soon.
    streamWindowSeconds: 0.2,
    testClock: true,
    pollerStatus: true,
    // The tests' item snapshots (support/table.ts) read a copy kept from the stream, not a Scan of the shared table.
    tableMirror: true,
    // A webhook the API refused (a 5xx) comes back within a second or two, not minutes.
    stripeRetry: { attempts: 6, baseDelayMs: 200, maxDelayMs: 2000, timeoutMs: 5000 },
    // Auto-recharge webhooks: three attempts a second apart, receivers given 1.5 s (not a day and 10 s).
    webhooks: { retryDelaysSeconds: [1, 1], timeoutMs: 1500 },
    log: (line) => {
      if (verbose) console.log(line);
    },
  });
  // A restart of the shared stack explains failures around it: always said, as is giving up.
  stack.events.on('restart', (e) => verbose || console.error(`test stack: ${e.service} ${e.reason}; restarted`));
  void stack.fatal.then((err) => {
    if (shared.testStack) shared.testStack.fatal = err;
    console.error(`test stack: ${err.message}`);
  });
  return stack;
}
