import type { Context } from 'aws-lambda';
import { withInvocationLog } from './logger';
import { metrics } from './metrics';

/**
 * The one shape of every worker (queue, stream, schedule): its invocation's log scope
 * (`withInvocationLog`: only this invocation's keys on its lines) and the metrics it counted
 * published when it ends, however it ends. A handler is `export const handler = worker(run)`.
 */
export function worker<E, R>(run: (event: E, context: Context) => Promise<R>): (event: E, context: Context) => Promise<R> {
  return (event, context) =>
    withInvocationLog(context, async () => {
      try {
        return await run(event, context);
      } finally {
        if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
      }
    });
}
