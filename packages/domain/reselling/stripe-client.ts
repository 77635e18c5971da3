import { createHash } from 'node:crypto';
import Stripe from 'stripe';
import { timeLeftMs } from '../../core/deadline';
import { optionalEnv, secret } from '../../core/env';
import { AppError } from '../../core/errors';
import { logger } from '../../core/logger';

/**
 * The one place the platform talks to Stripe. The secret key comes from Secrets Manager when
 * deployed (`STRIPE_SECRET_KEY_ARN`) and from the environment locally; `STRIPE_API_BASE` points
 * the SDK elsewhere (the local sandbox: host, port and protocol). The SDK never retries on its
 * own: a failed call is answered 503 at once and the caller retries with the same
 * Idempotency-Key, which maps to the same Stripe idempotency key (`stripeKey`), so Stripe
 * answers the retry with what it did the first time (or does it once).
 */
let client: Promise<Stripe> | undefined;

export function stripe(): Promise<Stripe> {
  client ??= secret('STRIPE_SECRET_KEY').then((key) => new Stripe(key, clientOptions()));
  client.catch(() => {
    client = undefined;
  });
  return client;
}

function clientOptions(): Stripe.StripeConfig {
  const base = optionalEnv('STRIPE_API_BASE');
  const url = base ? new URL(base) : undefined;
  return {
    ...(url
      ? {
          host: url.hostname,
          port: url.port || (url.protocol === 'https:' ? 443 : 80),
          protocol: url.protocol === 'https:' ? 'https' : 'http',
        }
      : {}),
    maxNetworkRetries: 0,
    timeout: defaultTimeoutMs(),
    telemetry: false,
    appInfo: { name: 'agency-accounts' },
  };
}

const defaultTimeoutMs = () => Number(optionalEnv('STRIPE_TIMEOUT_MS') ?? 5000);

/** Request options for one call: its idempotency key, the connected account, a timeout within the request's deadline. */
export function requestOptions(opts: { idempotencyKey?: string; stripeAccount?: string | null }): Stripe.RequestOptions {
  return {
    ...(opts.idempotencyKey ? { idempotencyKey: opts.idempotencyKey } : {}),
    ...(opts.stripeAccount ? { stripeAccount: opts.stripeAccount } : {}),
    timeout: Math.max(500, Math.min(defaultTimeoutMs(), timeLeftMs() - 1000)),
  };
}

/** Stripe's idempotency key for one of our operations: a hash of who, on what, and our own key. */
export function stripeKey(...parts: string[]): string {
  return `aa-${createHash('sha256').update(parts.join('\u0000')).digest('base64url')}`;
}

/** What Stripe did for this container, for tests that count Checkout Sessions created versus replayed. */
export const stripeStats = { sessionsCreated: 0, sessionsReplayed: 0 };

export function noteSession(session: Stripe.Response<Stripe.Checkout.Session>): void {
  const replayed = session.lastResponse?.headers?.['idempotent-replayed'] === 'true';
  if (replayed) stripeStats.sessionsReplayed++;
  else stripeStats.sessionsCreated++;
}

/**
 * Runs one Stripe call. Stripe unreachable, slow, rate-limiting or failing (5xx) → 503
 * try_again with Retry-After: the caller retries with the same key. A connected account Stripe
 * no longer lets us act for → `accountGone` (the caller decides). Anything else is a bug here
 * (a parameter Stripe refused) and stays a 500, logged.
 */
export async function stripeCall<T>(what: string, call: (s: Stripe) => Promise<T>): Promise<T> {
  let s: Stripe;
  try {
    s = await stripe();
  } catch (err) {
    logger.error('Stripe is not configured: STRIPE_SECRET_KEY has no value', { error: (err as Error).message });
    throw unavailable();
  }
  try {
    return await call(s);
  } catch (err) {
    if (!(err instanceof Stripe.errors.StripeError)) throw err;
    const status = err.statusCode ?? 0;
    const transient =
      err instanceof Stripe.errors.StripeConnectionError ||
      err instanceof Stripe.errors.StripeAPIError ||
      err instanceof Stripe.errors.StripeRateLimitError ||
      err.type === 'StripeLockTimeoutError' ||
      err.code === 'lock_timeout' ||
      status === 409 ||
      status >= 500;
    logger.warn('Stripe call failed', { what, type: err.type, code: err.code, status, requestId: err.requestId });
    if (transient) throw unavailable();
    if (err.code === 'account_invalid' || (err instanceof Stripe.errors.StripePermissionError && status === 403))
      throw new AccountGone();
    throw err;
  }
}

const unavailable = () =>
  new AppError('try_again', 'The payment provider did not answer; retry with the same Idempotency-Key', undefined, {
    retryAfterSeconds: 2,
  });

/** The connected account no longer exists at Stripe or no longer lets the platform act for it. */
export class AccountGone extends Error {
  constructor() {
    super('The connected Stripe account is not accessible');
    this.name = 'AccountGone';
  }
}
