import type Stripe from 'stripe';
import { createAccount, createAccountLink } from './api-accounts';
import { createSession, expireSessionRoute, retrieveSession } from './api-checkout';
import type { ApiContext, ApiRequest } from './api-context';
import { createCustomer, createPaymentIntent, detachPaymentMethod } from './api-customers';
import { accountInvalid, decodeSegment, invalidRequest, resourceMissing, StripeApiError } from './errors';
import { expand } from './expand';
import { Params } from './params';
import { refund } from './refunds';
import type { Scope, Scoped } from './store';

type Handler = (ctx: ApiContext, req: ApiRequest, p: Params, id: string) => object;

/** The Stripe API calls the platform makes; nothing else (an unknown route answers Stripe's 404). */
const ROUTES: Array<[method: string, pattern: RegExp, handler: Handler]> = [
  ['POST', /^\/v1\/accounts$/, createAccount],
  ['GET', /^\/v1\/accounts\/([^/]+)$/, retrieveAccount],
  ['POST', /^\/v1\/account_links$/, createAccountLink],
  ['POST', /^\/v1\/checkout\/sessions$/, createSession],
  ['GET', /^\/v1\/checkout\/sessions\/([^/]+)$/, retrieveSession],
  ['POST', /^\/v1\/checkout\/sessions\/([^/]+)\/expire$/, expireSessionRoute],
  ['GET', /^\/v1\/payment_intents\/([^/]+)$/, (ctx, req, p, id) => retrieve(ctx, req, p, ctx.store.intent(id, req.scope).object)],
  ['POST', /^\/v1\/payment_intents$/, createPaymentIntent],
  ['POST', /^\/v1\/customers$/, createCustomer],
  [
    'GET',
    /^\/v1\/customers\/([^/]+)$/,
    (ctx, req, p, id) => retrieve(ctx, req, p, scoped(ctx.store.customers.get(id), req, 'customer', id)),
  ],
  [
    'GET',
    /^\/v1\/setup_intents\/([^/]+)$/,
    (ctx, req, p, id) => retrieve(ctx, req, p, scoped(ctx.store.setupIntents.get(id), req, 'setup_intent', id)),
  ],
  [
    'GET',
    /^\/v1\/payment_methods\/([^/]+)$/,
    (ctx, req, p, id) => retrieve(ctx, req, p, ctx.store.paymentMethod(id, req.scope).object),
  ],
  ['POST', /^\/v1\/payment_methods\/([^/]+)\/detach$/, detachPaymentMethod],
  ['GET', /^\/v1\/charges\/([^/]+)$/, (ctx, req, p, id) => retrieve(ctx, req, p, ctx.store.charge(id, req.scope).object)],
  ['POST', /^\/v1\/refunds$/, createRefund],
  ['GET', /^\/v1\/refunds$/, (ctx, req, p) => listOf(ctx, req, p, '/v1/refunds', ctx.store.refunds)],
  ['GET', /^\/v1\/disputes$/, (ctx, req, p) => listOf(ctx, req, p, '/v1/disputes', ctx.store.disputes)],
  ['GET', /^\/v1\/disputes\/([^/]+)$/, (ctx, req, p, id) => retrieve(ctx, req, p, ctx.store.dispute(id, req.scope).object)],
  ['GET', /^\/v1\/refunds\/([^/]+)$/, (ctx, req, p, id) => retrieve(ctx, req, p, ctx.store.refund(id, req.scope).object)],
  ['GET', /^\/v1\/events\/([^/]+)$/, (ctx, req, p, id) => retrieve(ctx, req, p, ctx.store.event(id, req.scope).object)],
];

export function routeApi(ctx: ApiContext, req: ApiRequest): object {
  for (const [method, pattern, handler] of ROUTES) {
    const m = pattern.exec(req.path);
    if (m && method === req.method) return handler(ctx, req, new Params(req.params), decodeSegment(m[1]));
  }
  throw new StripeApiError(404, {
    type: 'invalid_request_error',
    message: `Unrecognized request URL (${req.method}: ${req.path}). The local Stripe sandbox answers only the calls the platform makes; see packages/local/stripe-sandbox/index.ts.`,
  });
}

function retrieve(ctx: ApiContext, req: ApiRequest, p: Params, object: object): object {
  const paths = p.expand();
  p.done();
  return expand(ctx.store, req.scope, object, paths);
}

function scoped<T extends object>(rec: { scope: Scope; object: T } | undefined, req: ApiRequest, kind: string, id: string): T {
  if (!rec || rec.scope !== req.scope) throw resourceMissing(kind, id, 'id');
  return rec.object;
}

function retrieveAccount(ctx: ApiContext, req: ApiRequest, p: Params, id: string): object {
  const account = ctx.store.accounts.get(id);
  // Stripe answers 403 both for an account that does not exist and for one this key cannot reach.
  if (!account || (req.scope && req.scope !== id)) throw accountInvalid(ctx.secretKey, id);
  return retrieve(ctx, req, p, account);
}

/**
 * A list, as Stripe pages it: newest first, `limit` (1–100, default 10), `starting_after` an id
 * of the previous page, filtered by `payment_intent` and/or `charge`.
 */
function listOf<T extends { id: string; created: number; payment_intent: unknown; charge: unknown }>(
  ctx: ApiContext,
  req: ApiRequest,
  p: Params,
  url: string,
  objects: Map<string, Scoped<T>>,
): Stripe.ApiList<T> {
  const paymentIntent = p.str('payment_intent');
  const charge = p.str('charge');
  const limit = p.int('limit', { min: 1, max: 100 }) ?? 10;
  const after = p.str('starting_after');
  p.done();
  const idOf = (v: unknown) => (typeof v === 'string' ? v : (v as { id?: string } | null)?.id);
  const all = ctx.store.list(
    objects,
    req.scope,
    (o) => (!paymentIntent || idOf(o.payment_intent) === paymentIntent) && (!charge || idOf(o.charge) === charge),
  );
  const start = after ? all.findIndex((o) => o.id === after) + 1 : 0;
  if (after && start === 0) throw invalidRequest(`No such object: '${after}'`, 'starting_after', 'resource_missing');
  const data = all.slice(start, start + limit);
  return { object: 'list', data, has_more: start + limit < all.length, url };
}

function createRefund(ctx: ApiContext, req: ApiRequest, p: Params): object {
  const input = {
    charge: p.str('charge'),
    paymentIntent: p.str('payment_intent'),
    amount: p.int('amount', { min: 1 }),
    reason: p.oneOf('reason', ['duplicate', 'fraudulent', 'requested_by_customer'] as const),
    metadata: p.metadata('metadata'),
  };
  // Accepted as at Stripe; the sandbox keeps no application-fee or transfer ledger to reverse.
  p.bool('refund_application_fee');
  p.bool('reverse_transfer');
  const paths = p.expand();
  p.done();
  if (!input.charge && !input.paymentIntent)
    throw invalidRequest('One of the following params should be provided for this request: charge or payment_intent.');
  const created = refund(ctx, req.scope, input, { id: req.requestId, idempotency_key: req.idempotencyKey });
  return expand(ctx.store, req.scope, created, paths);
}
