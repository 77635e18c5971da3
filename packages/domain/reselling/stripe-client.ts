import { createHash } from 'node:crypto';
import { timeLeftMs } from '#core/deadline';
import { optionalEnv, secret } from '#core/env';
import { AppError } from '#core/errors';
import { logger } from '#core/logger';
import { type StripeApi, type StripeCallOptions, StripeRequestError, stripeApi } from './stripe-api';

/**
 * The one place the platform talks to Stripe. The secret key comes from Secrets Manager when
 * deployed (`STRIPE_SECRET_KEY_ARN`) and from the environment locally; `STRIPE_API_BASE` points
 * the client elsewhere (the local sandbox). Nothing here retries on its
 * own: a failed call is answered 503 at once and the caller retries with the same
 * Idempotency-Key, which maps to the same Stripe idempotency key (`stripeKey`), so Stripe
 * answers the retry with what it did the first time (or does it once).
 */
let client: Promise<StripeApi> | undefined;

export function stripe(): Promise<StripeApi> {
  client ??= secret('STRIPE_SECRET_KEY').then((key) => stripeApi(key, optionalEnv('STRIPE_API_BASE')));
  client.catch(() => {
    client = undefined;
  });
  return client;
}

const defaultTimeoutMs = () => Number(optionalEnv('STRIPE_TIMEOUT_MS') ?? 5000);

/** Options for one call: its idempotency key, the connected account, a timeout within the request's deadline. */
export function requestOptions(opts: { idempotencyKey?: string; stripeAccount?: string | null }): StripeCallOptions {
  return {
    ...(opts.idempotencyKey ? { idempotencyKey: opts.idempotencyKey } : {}),
    ...(opts.stripeAccount ? { stripeAccount: opts.stripeAccount } : {}),
    timeoutMs: Math.max(500, Math.min(defaultTimeoutMs(), timeLeftMs() - 1000)),
  };
}

/** Stripe's idempotency key for one of our operations: a hash of who, on what, and our own key. */
export function stripeKey(...parts: string[]): string {
  return `aa-${createHash('sha256').update(parts.join('\u0000')).digest('base64url')}`;
}

/**
 * Runs one Stripe call, and turns Stripe's refusals into answers a client can act on:
 * - Stripe unreachable, slow, rate-limiting or failing (5xx), or a request still running under
 *   the same key → 503 try_again with Retry-After: the caller retries with the same key.
 * - The connected account cannot be acted for (deauthorized, deleted, `account_invalid`, 403)
 *   → `AccountGone`, a 409 reselling_not_ready unless the caller handles it (connecting again
 *   replaces the account).
 * - Any other refusal (a 4xx we did not expect: a parameter Stripe no longer takes, our key
 *   revoked) → 502 payment_provider_error. The client did nothing wrong and retrying will not
 *   help; Stripe's request id is logged at error level for whoever runs the platform.
 */
export async function stripeCall<T>(what: string, call: (s: StripeApi) => Promise<T>): Promise<T> {
  let s: StripeApi;
  try {
    s = await stripe();
  } catch (err) {
    logger.error('Stripe is not configured: STRIPE_SECRET_KEY has no value', { error: (err as Error).message });
    throw unavailable();
  }
  try {
    return await call(s);
  } catch (err) {
    if (!(err instanceof StripeRequestError)) throw err;
    const facts = { what, type: err.type, code: err.code, status: err.status, requestId: err.requestId };
    if (isTransient(err)) {
      logger.warn('Stripe call failed; the caller may retry', facts);
      throw unavailable();
    }
    if (err.code === 'account_invalid' || err.status === 403) {
      logger.warn('Stripe refused to act for the connected account', facts);
      throw new AccountGone();
    }
    logger.error('Stripe refused a call', { ...facts, message: err.message });
    throw new AppError('payment_provider_error', `The payment provider refused the request (${what}); it has been logged`);
  }
}

/** Unreachable or timed out (0), Stripe's own failure (api_error, 5xx), rate limits (429), and a request still running under the same key (409, lock_timeout): all pass with time. */
const isTransient = (err: StripeRequestError) =>
  err.status === 0 ||
  err.type === 'api_error' ||
  err.status === 429 ||
  err.code === 'lock_timeout' ||
  err.status === 409 ||
  err.status >= 500;

const unavailable = () =>
  new AppError('try_again', 'The payment provider did not answer; retry with the same Idempotency-Key', undefined, {
    retryAfterSeconds: 2,
  });

/**
 * The connected account no longer exists at Stripe or no longer lets the platform act for it:
 * the agency cannot sell until it connects again (409 reselling_not_ready when not handled).
 */
export class AccountGone extends AppError {
  constructor() {
    super(
      'reselling_not_ready',
      "The agency cannot sell credits yet: Stripe no longer lets the platform act for the agency's connected account; the agency must connect Stripe again",
    );
    this.name = 'AccountGone';
  }
}
