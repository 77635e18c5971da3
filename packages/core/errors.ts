/**
 * Every error the API can answer with, defined once: the stable `code` clients switch on,
 * its HTTP status and the problem title. Handlers throw `AppError`; one middleware turns
 * it into RFC 9457 problem JSON.
 */
export const errorCodes = {
  invalid_request: { status: 400, title: 'Invalid request' },
  invalid_webhook_url: { status: 400, title: 'Webhook URL not allowed' },
  idempotency_key_missing: { status: 400, title: 'Idempotency-Key header required' },
  unauthenticated: { status: 401, title: 'Authentication required' },
  insufficient_credits: { status: 402, title: 'Insufficient credits' },
  credit_limit_reached: { status: 402, title: 'Monthly credit limit reached' },
  forbidden: { status: 403, title: 'Forbidden' },
  feature_not_available: { status: 403, title: 'Feature not available on this plan' },
  feature_not_enabled: { status: 403, title: 'Feature not enabled for this account' },
  email_not_verified: { status: 403, title: 'Email address not verified' },
  quota_exceeded: { status: 403, title: 'Quota exceeded' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  email_taken: { status: 409, title: 'Email already registered' },
  idempotency_key_reused: { status: 409, title: 'Idempotency key reused with another request' },
  conflict: { status: 409, title: 'Conflict' },
  account_closed: { status: 409, title: 'Account closed' },
  wrong_credit_mode: { status: 409, title: 'Not allowed in this credit mode' },
  balance_limit_exceeded: { status: 409, title: 'Balance limit exceeded' },
  reselling_not_ready: { status: 409, title: 'The agency cannot sell credits yet' },
  recharge_request_closed: { status: 409, title: 'Recharge request already fulfilled or expired' },
  no_payment_method: { status: 409, title: 'No saved card' },
  payload_too_large: { status: 413, title: 'Payload too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  price_below_minimum: { status: 422, title: 'Price below the platform minimum' },
  amount_too_small: { status: 422, title: "Amount below the payment provider's minimum charge" },
  throttled: { status: 429, title: 'Too many requests' },
  too_many_attempts: { status: 429, title: 'Too many attempts' },
  internal_error: { status: 500, title: 'Internal error' },
  payment_provider_error: { status: 502, title: 'The payment provider refused the request' },
  try_again: { status: 503, title: 'Temporarily unavailable, try again' },
  service_unavailable: { status: 503, title: 'A service this request needs is unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof errorCodes;

export interface FieldIssue {
  /** Dotted path of the offending field, e.g. `faqs.2.question`; `body` for the body itself. */
  field: string;
  message: string;
}

/** Facts about an error that the HTTP layer turns into headers (`Retry-After`, `Allow`, `Idempotent-Replayed`). */
export interface ErrorFacts {
  retryAfterSeconds?: number;
  allow?: string[];
  /** The answer is the remembered outcome of an earlier request with the same Idempotency-Key. */
  replayed?: boolean;
  /** RFC 9457 extension members of the problem body (declared in responses.ts `Problem`), e.g. a `minimum`. */
  extensions?: { minimum?: string; currency?: string; reason?: string; refusal?: string };
}

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    readonly detail?: string,
    readonly errors?: FieldIssue[],
    readonly facts: ErrorFacts = {},
  ) {
    super(detail ?? errorCodes[code].title);
    this.name = 'AppError';
    this.status = errorCodes[code].status;
  }
}

export const notFound = (what = 'Resource') => new AppError('not_found', `${what} not found`);
export const forbidden = (detail = 'Not allowed for this principal') => new AppError('forbidden', detail);
export const unauthenticated = (detail = 'Missing, invalid or expired credentials') => new AppError('unauthenticated', detail);
export const invalidField = (field: string, message: string) =>
  new AppError('invalid_request', `${field}: ${message}`, [{ field, message }]);
