/**
 * How every AWS SDK client of a function talks to its service, stated once. A Lambda HTTP
 * function has 10 s; API Gateway answers for it at 30 s. A call may take at most
 * `connectionTimeout` to connect and `requestTimeout` for the answer, and the SDK's standard
 * mode tries it at most `maxAttempts` times (backoff with jitter, retrying throttling, 5xx
 * and connection errors): 3 × (0.5 + 2) s plus backoff stays under the function's 9.5 s of
 * useful time, so a dead dependency becomes our own 503, never Lambda's timeout. On the debit
 * path a healthy call takes one attempt; retries are only spent when DynamoDB is failing.
 */
export const awsClientDefaults = {
  maxAttempts: 3,
  // Without `throwOnRequestTimeout` the SDK's HTTP handler only logs a warning when a call
  // passes `requestTimeout` (@smithy/node-http-handler 4.x) and goes on waiting.
  requestHandler: { connectionTimeout: 500, requestTimeout: 2_000, throwOnRequestTimeout: true },
} as const;
