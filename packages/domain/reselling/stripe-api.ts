import type Stripe from 'stripe';

/**
 * Stripe's REST API over `fetch`, for the few calls the platform makes. The stripe SDK would
 * add about 240 KB to each reselling function's bundle for them (it ships every resource and
 * parses its whole module at cold start); its types are still ours (`import type`), so the
 * parameters and answers are checked against Stripe's own definitions. What the SDK did that
 * matters here is kept: the pinned API version, Stripe's form encoding, the Idempotency-Key and
 * Stripe-Account headers, and Stripe's errors with their status, type, code and request id.
 */

/** The API version the stripe package we type against is written for (a unit test holds them equal). */
export const STRIPE_API_VERSION = '2026-10-28.endive';

export interface StripeCallOptions {
  idempotencyKey?: string;
  stripeAccount?: string;
  timeoutMs: number;
}

/** An answer and whether Stripe replayed it for a repeated Idempotency-Key. */
export interface StripeAnswer<T> {
  object: T;
  replayed: boolean;
}

/** Stripe refused (status and its error body), or could not be reached (status 0, type `connection_error`). */
export class StripeRequestError extends Error {
  readonly status: number;
  readonly type: string;
  readonly code: string | undefined;
  readonly requestId: string | undefined;
  /** A card error's PaymentIntent (Stripe puts it in the error of a confirmation that failed). */
  readonly paymentIntent: Stripe.PaymentIntent | undefined;
  constructor(
    status: number,
    body: { type?: string; code?: string; message?: string; payment_intent?: Stripe.PaymentIntent },
    requestId?: string,
  ) {
    super(body.message ?? `Stripe answered ${status}`);
    this.name = 'StripeRequestError';
    this.status = status;
    this.type = body.type ?? 'api_error';
    this.code = body.code;
    this.requestId = requestId;
    this.paymentIntent = body.payment_intent;
  }
}

export interface StripeApi {
  createAccount(params: Stripe.AccountCreateParams, options: StripeCallOptions): Promise<StripeAnswer<Stripe.Account>>;
  createAccountLink(
    params: Stripe.AccountLinkCreateParams,
    options: StripeCallOptions,
  ): Promise<StripeAnswer<Stripe.AccountLink>>;
  createCheckoutSession(
    params: Stripe.Checkout.SessionCreateParams,
    options: StripeCallOptions,
  ): Promise<StripeAnswer<Stripe.Checkout.Session>>;
  createRefund(params: Stripe.RefundCreateParams, options: StripeCallOptions): Promise<StripeAnswer<Stripe.Refund>>;
  createCustomer(params: Stripe.CustomerCreateParams, options: StripeCallOptions): Promise<StripeAnswer<Stripe.Customer>>;
  /** A PaymentIntent; with confirm and off_session a declined card throws StripeRequestError 402 carrying it (`paymentIntent`). */
  createPaymentIntent(
    params: Stripe.PaymentIntentCreateParams,
    options: StripeCallOptions,
  ): Promise<StripeAnswer<Stripe.PaymentIntent>>;
  retrievePaymentIntent(id: string, options: StripeCallOptions): Promise<Stripe.PaymentIntent>;
  /** A Checkout Session with `expand[]` paths (a setup session's `setup_intent.payment_method`). */
  retrieveCheckoutSession(id: string, expand: string[], options: StripeCallOptions): Promise<Stripe.Checkout.Session>;
  detachPaymentMethod(id: string, options: StripeCallOptions): Promise<StripeAnswer<Stripe.PaymentMethod>>;
  /** Every refund of a PaymentIntent (all pages), as Stripe holds them now. */
  listRefunds(paymentIntent: string, options: StripeCallOptions): Promise<Stripe.Refund[]>;
  /** Every dispute of a PaymentIntent (all pages), as Stripe holds them now. */
  listDisputes(paymentIntent: string, options: StripeCallOptions): Promise<Stripe.Dispute[]>;
}

/** Stripe's largest page; a PaymentIntent rarely has more than a few refunds or disputes. */
const PAGE_LIMIT = 100;
/** A bound on pages read, so a misbehaving answer can never loop forever. */
const MAX_PAGES = 20;

/** A client for one secret key; `apiBase` is Stripe itself unless pointed elsewhere (the local sandbox). */
export function stripeApi(secretKey: string, apiBase = 'https://api.stripe.com'): StripeApi {
  const post = <T>(path: string, params: object, options: StripeCallOptions) =>
    send<T>('POST', new URL(path, apiBase), secretKey, params, options);
  const list = async <T extends { id: string }>(path: string, params: object, options: StripeCallOptions) => {
    const all: T[] = [];
    for (let page = 0; page < MAX_PAGES; page++) {
      const after = all.at(-1)?.id;
      const url = new URL(path, apiBase);
      url.search = formEncode({ ...params, limit: PAGE_LIMIT, ...(after ? { starting_after: after } : {}) });
      const { object } = await send<Stripe.ApiList<T>>('GET', url, secretKey, undefined, options);
      all.push(...object.data);
      if (!object.has_more || object.data.length === 0) return all;
    }
    throw new StripeRequestError(0, { type: 'api_error', message: `${path}: more than ${MAX_PAGES} pages` });
  };
  const get = async <T>(path: string, params: object, options: StripeCallOptions) => {
    const url = new URL(path, apiBase);
    url.search = formEncode(params);
    return (await send<T>('GET', url, secretKey, undefined, options)).object;
  };
  const segment = encodeURIComponent;
  return {
    createCustomer: (params, options) => post('/v1/customers', params, options),
    createPaymentIntent: (params, options) => post('/v1/payment_intents', params, options),
    retrievePaymentIntent: (id, options) => get(`/v1/payment_intents/${segment(id)}`, {}, options),
    retrieveCheckoutSession: (id, expand, options) => get(`/v1/checkout/sessions/${segment(id)}`, { expand }, options),
    detachPaymentMethod: (id, options) => post(`/v1/payment_methods/${segment(id)}/detach`, {}, options),
    createAccount: (params, options) => post('/v1/accounts', params, options),
    createAccountLink: (params, options) => post('/v1/account_links', params, options),
    createCheckoutSession: (params, options) => post('/v1/checkout/sessions', params, options),
    createRefund: (params, options) => post('/v1/refunds', params, options),
    listRefunds: (paymentIntent, options) => list('/v1/refunds', { payment_intent: paymentIntent }, options),
    listDisputes: (paymentIntent, options) => list('/v1/disputes', { payment_intent: paymentIntent }, options),
  };
}

async function send<T>(
  method: 'GET' | 'POST',
  url: URL,
  secretKey: string,
  params: object | undefined,
  options: StripeCallOptions,
): Promise<StripeAnswer<T>> {
  const headers: Record<string, string> = {
    Authorization: `Bearer ${secretKey}`,
    'Stripe-Version': STRIPE_API_VERSION,
    'User-Agent': 'agency-accounts',
    ...(params ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}),
    ...(options.idempotencyKey ? { 'Idempotency-Key': options.idempotencyKey } : {}),
    ...(options.stripeAccount ? { 'Stripe-Account': options.stripeAccount } : {}),
  };
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: params ? formEncode(params) : undefined,
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    text = await response.text();
  } catch (err) {
    // Refused, reset, DNS, TLS or our timeout: Stripe may or may not have acted; the same key makes a retry safe.
    throw new StripeRequestError(0, { type: 'connection_error', message: (err as Error).message });
  }
  const requestId = response.headers.get('request-id') ?? undefined;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new StripeRequestError(
      response.status >= 400 ? response.status : 502,
      { type: 'api_error', message: 'not JSON' },
      requestId,
    );
  }
  if (!response.ok) {
    const error =
      (body as { error?: { type?: string; code?: string; message?: string; payment_intent?: Stripe.PaymentIntent } }).error ?? {};
    throw new StripeRequestError(response.status, error, requestId);
  }
  return { object: body as T, replayed: response.headers.get('idempotent-replayed') === 'true' };
}

/**
 * Stripe's form encoding: nested objects as `a[b]=`, arrays by index `a[0][b]=`, undefined
 * left out, brackets unescaped and everything else escaped as the SDK does.
 */
export function formEncode(params: object): string {
  const pairs: string[] = [];
  const add = (key: string, value: unknown): void => {
    if (value === undefined) return;
    if (value === null || typeof value !== 'object') {
      pairs.push(`${formEscape(key)}=${formEscape(value === null ? '' : String(value))}`);
    } else if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) add(`${key}[${i}]`, item);
    } else {
      for (const [k, v] of Object.entries(value)) add(`${key}[${k}]`, v);
    }
  };
  for (const [k, v] of Object.entries(params)) add(k, v);
  return pairs.join('&');
}

const formEscape = (s: string) =>
  encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%5B/g, '[')
    .replace(/%5D/g, ']');
