import { AppError } from './errors';

/**
 * Tells a dependency's failure (DynamoDB, KMS, SES, SQS, the secrets extension unreachable,
 * timing out or throttling) from a bug: the former is the client's cue to retry later — 503
 * `service_unavailable`, or 429 `throttled` when AWS throttles us — with Retry-After; only the
 * latter is a 500.
 */
const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'LimitExceededException',
  'SlowDown',
]);
const UNAVAILABLE = new Set([
  'InternalServerError',
  'InternalFailure',
  'InternalError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'KMSInternalException',
  'KeyUnavailableException',
  'DependencyTimeoutException',
]);
const NETWORK =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|socket hang up|fetch failed/i;

interface SdkLikeError {
  name?: string;
  code?: string;
  message?: string;
  cause?: unknown;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

export function dependencyFailure(err: unknown): AppError | undefined {
  if (!err || typeof err !== 'object' || err instanceof AppError) return undefined;
  const e = err as SdkLikeError;
  const name = e.name ?? '';
  // A single write met a transaction on its item every time it was tried (db/conflict-retry.ts):
  // contention, nothing written; the same request later goes through.
  if (name === 'TransactionConflictException') {
    return new AppError('try_again', 'The account is busy; retry the request with the same Idempotency-Key', undefined, {
      retryAfterSeconds: 1,
    });
  }
  if (THROTTLING.has(name) || e.$metadata?.httpStatusCode === 429) {
    return new AppError('throttled', 'The service is busy; slow down and retry', undefined, { retryAfterSeconds: 2 });
  }
  const status = e.$metadata?.httpStatusCode;
  const network = [e.code, e.message, (e.cause as SdkLikeError | undefined)?.code].some(
    (s) => typeof s === 'string' && NETWORK.test(s),
  );
  if (UNAVAILABLE.has(name) || (status !== undefined && status >= 500) || network) {
    return new AppError('service_unavailable', 'A service this request needs is unavailable; retry shortly', undefined, {
      retryAfterSeconds: 1,
    });
  }
  return undefined;
}

/** A short description of the cause for the one log line (never a message that could carry data). */
export const causeOf = (err: unknown) => {
  const e = err as SdkLikeError;
  return { name: e.name, code: e.code, status: e.$metadata?.httpStatusCode };
};
