import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';

/** One logger per container. Request bodies and headers are never logged: they carry secrets. */
export const logger = new Logger({ serviceName: 'agency-accounts' });

/**
 * One invocation of a handler that is not a middy one (the HTTP handler gets the same from
 * `injectLambdaContext({ resetKeys: true })`): its lines carry its own Lambda context, and the
 * keys it appended end with it, since Lambda reuses this module for the container's next one.
 */
export async function withInvocationLog<T>(context: Context, run: () => Promise<T>): Promise<T> {
  logger.addContext(context);
  try {
    return await run();
  } finally {
    logger.resetKeys();
  }
}
