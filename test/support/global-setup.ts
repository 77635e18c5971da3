import type { TestProject } from 'vitest/node';
import { checkJava } from '../../packages/local/dynamodb';
import { type LocalStack, startLocalStack } from '../../packages/local/stack';

declare module 'vitest' {
  export interface ProvidedContext {
    stack: Omit<LocalStack, 'stop'>;
  }
}

let stack: LocalStack | undefined;

export async function setup(project: TestProject) {
  const javaProblem = checkJava();
  if (javaProblem) throw new Error(javaProblem);
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  stack = await startLocalStack({
    queueVisibilitySeconds: 1,
    testClock: true,
    log: (line) => {
      if (process.env.STACK_LOG) console.log(line);
    },
  });
  const { stop: _stop, ...info } = stack;
  project.provide('stack', info);
}

export async function teardown() {
  await stack?.stop();
}
