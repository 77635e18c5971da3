import { fileURLToPath } from 'node:url';
import type { ClockSetting } from '#core/clock';
import type { TableUser } from '#http/functions';

/** Every function the local runtime can run: the HTTP functions and the stream and queue workers. */
export type LocalFunction = TableUser;

const workerModules: Partial<Record<LocalFunction, string>> = {
  forwarder: 'stream/forwarder',
  'recharge-detector': 'stream/recharge-detector',
  notifier: 'queue/notifier',
  'webhook-sender': 'queue/webhook-sender',
  'usage-rollups': 'stream/usage-rollups',
  'lane-sweeper': 'scheduled/lane-sweeper',
};

/** The handler module a function runs, as CDK bundles it (functions/http/<name>.ts for the HTTP ones). */
export const functionModule = (fn: LocalFunction): string =>
  fileURLToPath(new URL(`../../functions/${workerModules[fn] ?? `http/${fn}`}.ts`, import.meta.url));

/** From the runtime (lambda-pool.ts) to one container process (lambda-container.ts). */
export type ToContainer =
  | { type: 'invoke'; id: number; event: unknown; clock?: ClockSetting }
  | { type: 'call'; id: number; name: string; args: unknown[] };

export interface ContainerFailure {
  name: string;
  message: string;
  stack?: string;
}

/** From a container back to the runtime. */
export type FromContainer =
  | { type: 'ready' }
  | {
      type: 'result';
      id: number;
      ok: boolean;
      value?: unknown;
      error?: ContainerFailure;
      /** Time inside the container (the handler's duration). */
      ms: number;
      /** What the container's extension measured of this invocation (see ContainerExtension). */
      figures?: Record<string, number>;
    };

/**
 * Extra behaviour a container can load next to its function (the bench's DynamoDB meter and
 * hint priming): a module exporting `extension`, named when the pool is made. It runs in the
 * container's own module graph, so it reaches the same clients and hints the handler uses.
 */
export interface ContainerExtension {
  /** Named calls the runtime can make on one container (`FunctionPool.call`). */
  calls?: Record<string, (...args: never[]) => unknown>;
  /** Runs as an invocation starts; what it returns runs as it ends and gives figures reported with the result. */
  measure?: () => () => Record<string, number>;
}
