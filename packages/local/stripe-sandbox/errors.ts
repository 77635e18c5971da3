import type Stripe from 'stripe';

/**
 * An error answered in Stripe's shape, `{error:{type, code, message, param, …}}`, with
 * Stripe's status: 400 bad params, 401 bad key, 402 card declined, 403 no access to the
 * account, 404 no such object, 500 API error. The SDK turns these into its own error
 * classes (StripeInvalidRequestError, StripeCardError…), so the platform sees what it
 * would see from Stripe.
 */
export class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: Stripe.StripeRawError,
    readonly headers: Record<string, string> = {},
  ) {
    super(body.message ?? body.type ?? 'Stripe error');
  }
}

const docUrl = (code: string) => `https://stripe.com/docs/error-codes/${code.replace(/_/g, '-')}`;

export function invalidRequest(message: string, param?: string, code?: string): StripeApiError {
  return new StripeApiError(400, {
    type: 'invalid_request_error',
    message,
    ...(param ? { param } : {}),
    ...(code ? { code, doc_url: docUrl(code) } : {}),
  });
}

export const missingParam = (param: string) => invalidRequest(`Missing required param: ${param}.`, param, 'parameter_missing');

/** Stripe names the object kind and id: "No such checkout.session: 'cs_test_…'". */
export function resourceMissing(kind: string, id: string, param: string): StripeApiError {
  return new StripeApiError(404, {
    type: 'invalid_request_error',
    code: 'resource_missing',
    doc_url: docUrl('resource_missing'),
    message: `No such ${kind}: '${id}'`,
    param,
  });
}

/** The answer when Stripe-Account names an account this key cannot reach (or none). */
export function accountInvalid(secretKey: string, account: string): StripeApiError {
  return new StripeApiError(403, {
    type: 'invalid_request_error',
    code: 'account_invalid',
    doc_url: docUrl('account_invalid'),
    message: `The provided key '${redactKey(secretKey)}' does not have access to account '${account}' (or that account does not exist). Application access may have been revoked.`,
  });
}

/** Stripe shows only the key's prefix and last four characters. */
export function redactKey(key: string): string {
  const prefix = key.match(/^[a-z]+_[a-z]+_/)?.[0] ?? '';
  return `${prefix}${'*'.repeat(Math.max(0, Math.min(key.length - prefix.length - 4, 24)))}${key.slice(-4)}`;
}

export function idempotencyError(message: string): StripeApiError {
  return new StripeApiError(400, { type: 'idempotency_error', message }, { 'Stripe-Should-Retry': 'false' });
}

/** A URL path segment (an object id), decoded; a malformed escape is the caller's error, not ours. */
export function decodeSegment(segment: string | undefined): string {
  try {
    return decodeURIComponent(segment ?? '');
  } catch {
    throw invalidRequest(`Invalid URL path segment: ${segment}`);
  }
}
