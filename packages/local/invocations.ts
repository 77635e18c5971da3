import { AsyncLocalStorage } from 'node:async_hooks';
import { InvokeStoreBase } from '@aws/lambda-invoke-store';
import type { Context } from 'aws-lambda';

type Scope = Record<string | symbol, unknown>;

/**
 * Lambda's per-invocation store (`globalThis.awslambda.InvokeStore`), as its runtime keeps it
 * when one environment serves several invocations at once (Lambda Managed Instances, which set
 * AWS_LAMBDA_MAX_CONCURRENCY): Powertools then holds each invocation's appended log keys,
 * Lambda context and metrics there instead of on the module's one logger. The one-process
 * local stack is such an environment, every function sharing one logger module. Outside an
 * invocation (the stack's own code, a test calling a module directly) reads and writes go to
 * one shared scope, where the runtime's store would throw.
 */
class LocalInvokeStore extends InvokeStoreBase {
  readonly #current = new AsyncLocalStorage<Scope>();
  readonly #shared: Scope = {};

  getContext(): Scope | undefined {
    return this.#current.getStore();
  }
  hasContext(): boolean {
    return this.#current.getStore() !== undefined;
  }
  get<T = unknown>(key: string | symbol): T | undefined {
    return (this.#current.getStore() ?? this.#shared)[key] as T | undefined;
  }
  set<T = unknown>(key: string | symbol, value: T): void {
    if (this.isProtectedKey(key)) throw new Error(`Cannot modify protected Lambda context field: ${String(key)}`);
    (this.#current.getStore() ?? this.#shared)[key] = value;
  }
  run<T>(scope: Scope, fn: () => T): T {
    return this.#current.run(scope, fn);
  }
}

/**
 * The process's one store, however many copies of this module it has loaded (a test's
 * in-process containers load the gateway afresh each: test/support/containers.ts), since
 * Powertools reads the one global.
 */
const PROCESS_STORE = Symbol.for('agency-accounts.local-invoke-store');

function processStore(): LocalInvokeStore {
  const slot = globalThis as { [PROCESS_STORE]?: LocalInvokeStore };
  let store = slot[PROCESS_STORE];
  if (!store) {
    store = new LocalInvokeStore();
    slot[PROCESS_STORE] = store;
    awslambda.InvokeStore = store; // the global the runtime sets, created by the store's module
    // Only its presence matters to Powertools and the store; Lambda sets a number.
    process.env.AWS_LAMBDA_MAX_CONCURRENCY ??= '1000';
  }
  return store;
}

/**
 * Runs one in-process invocation in its own scope of the store, as Lambda's runtime does. The
 * first call makes this process such an environment; container processes (lambda-pool.ts)
 * serve one invocation at a time, as standard Lambda does, and are never one.
 */
export function asInvocation<T>(context: Context, fn: () => T): T {
  return processStore().run({ [InvokeStoreBase.PROTECTED_KEYS.REQUEST_ID]: context.awsRequestId }, fn);
}
