import type Stripe from 'stripe';
import type { ApiContext } from './api-context';
import { type CardKind, cardKindOf, completeSetup, setCustomerCard } from './api-customers';
import { closeDispute, openDispute } from './disputes';
import { decodeSegment as decode, invalidRequest, StripeApiError } from './errors';
import { NO_REQUEST } from './events';
import { chargeOnAccount, checkoutOutcome, expireIfDue, expireSession, OUTCOMES, type Outcome, onboard } from './flows';
import { nowSeconds } from './ids';
import { checkoutPage, onboardingDonePage, onboardingPage } from './pages';
import { failRefund, refund } from './refunds';
import { html, json, type Reply, redirect } from './reply';

/**
 * The fault knob: the next `remaining` API calls fail with `status`, or never answer
 * ('timeout'). 400 and 403 are refusals Stripe means (a parameter it no longer takes, an
 * account the platform may no longer act for: `account_invalid`), not outages.
 */
export interface Faults {
  remaining: number;
  status: FaultStatus;
}
export type FaultStatus = 500 | 503 | 429 | 400 | 403 | 'timeout';

export type ControlBody = Record<string, unknown>;

/**
 * The sandbox's own routes (no API key; it listens on 127.0.0.1 only):
 *   POST   /sandbox/accounts/{acct}/onboard
 *   POST   /sandbox/checkout/sessions/{cs}/{pay|decline|pay_async_success|pay_async_failure|expire|refund}
 *   POST   /sandbox/checkout/sessions/{cs}/setup {card}   POST /sandbox/customers/{cus}/card {card}
 *   GET    /sandbox/events[?type=&account=&id=]   POST /sandbox/events/{evt}/resend
 *   GET    /sandbox/requests[?account=&method=&path=]  (the API's request log, newest first)
 *   GET|POST|DELETE /sandbox/faults
 * and the pages: GET|POST /sandbox/pages/onboard/{acct}, GET /sandbox/pages/checkout/{cs},
 * POST /sandbox/pages/checkout/{cs}/{outcome}.
 */
type ControlRoute = [
  method: string | null,
  pattern: RegExp,
  run: (ctx: ApiContext, m: string[], req: { method: string; url: URL; body: ControlBody; faults: Faults }) => Reply,
];

const CONTROL_ROUTES: ControlRoute[] = [
  ['POST', /^\/sandbox\/accounts\/([^/]+)\/onboard$/, (ctx, [acct]) => json(200, onboard(ctx, decode(acct)))],
  [
    'POST',
    /^\/sandbox\/checkout\/sessions\/([^/]+)\/setup$/,
    (ctx, [cs], { body }) =>
      json(200, completeSetup(ctx, ctx.store.session(decode(cs), undefined), cardKindOf(body.card ?? 'success'))),
  ],
  [
    'POST',
    /^\/sandbox\/customers\/([^/]+)\/card$/,
    (ctx, [cus], { body }) => json(200, setCustomerCard(ctx, decode(cus), cardKindOf(body.card))),
  ],
  [
    'POST',
    /^\/sandbox\/checkout\/sessions\/([^/]+)\/([a-z_]+)$/,
    (ctx, [cs, outcome], { body }) => json(200, sessionOutcome(ctx, decode(cs), outcomeOf(decode(outcome)), body)),
  ],
  ['POST', /^\/sandbox\/accounts\/([^/]+)\/deauthorize$/, (ctx, [acct]) => json(200, deauthorize(ctx, decode(acct)))],
  ['POST', /^\/sandbox\/accounts\/([^/]+)\/charges$/, (ctx, [acct], { body }) => json(200, ownCharge(ctx, decode(acct), body))],
  [
    'POST',
    /^\/sandbox\/charges\/([^/]+)\/dispute$/,
    (ctx, [ch], { body }) => json(200, openDispute(ctx, ctx.store.charge(decode(ch), undefined), disputeInput(body))),
  ],
  [
    'POST',
    /^\/sandbox\/disputes\/([^/]+)\/close$/,
    (ctx, [dp], { body }) => json(200, closeDispute(ctx, ctx.store.dispute(decode(dp), undefined), disputeOutcome(body))),
  ],
  [
    'POST',
    /^\/sandbox\/refunds\/([^/]+)\/fail$/,
    (ctx, [re], { body }) => json(200, failRefund(ctx, decode(re), body.status === 'canceled' ? 'canceled' : 'failed')),
  ],
  ['GET', /^\/sandbox\/events$/, (ctx, _, { url }) => json(200, { data: listDeliveries(ctx, url) })],
  ['GET', /^\/sandbox\/requests$/, (ctx, _, { url }) => json(200, { data: listRequests(ctx, url) })],
  [
    'POST',
    /^\/sandbox\/events\/([^/]+)\/resend$/,
    (ctx, [id]) => {
      const event = ctx.store.event(decode(id), undefined).object;
      ctx.events.resend(event);
      return json(200, { id: event.id, resent: true });
    },
  ],
  [null, /^\/sandbox\/faults$/, (_, __, req) => faultsRoute(req.faults, req.method, req.url, req.body)],
  [
    null,
    /^\/sandbox\/pages\/onboard\/([^/]+)$/,
    (ctx, [acct], { method, url }) => onboardingRoute(ctx, method, decode(acct), url),
  ],
  [
    'GET',
    /^\/sandbox\/pages\/checkout\/([^/]+)$/,
    (ctx, [cs]) => {
      const rec = ctx.store.session(decode(cs), undefined);
      expireIfDue(ctx, rec);
      return html(200, checkoutPage(rec, { merchant: merchantName(ctx, rec.scope) }));
    },
  ],
  [
    'POST',
    /^\/sandbox\/pages\/checkout\/([^/]+)\/setup\/([a-z_]+)$/,
    (ctx, [cs, card]) => setupPageAction(ctx, decode(cs), cardKindOf(decode(card))),
  ],
  [
    'POST',
    /^\/sandbox\/pages\/checkout\/([^/]+)\/([a-z_]+)$/,
    (ctx, [cs, outcome]) => checkoutPageAction(ctx, decode(cs), outcomeOf(decode(outcome))),
  ],
];

export function routeControl(ctx: ApiContext, faults: Faults, method: string, url: URL, body: ControlBody): Reply {
  for (const [routeMethod, pattern, run] of CONTROL_ROUTES) {
    const m = pattern.exec(url.pathname);
    if (m && (routeMethod === null || routeMethod === method)) return run(ctx, m.slice(1), { method, url, body, faults });
  }
  return notFound(method, url.pathname);
}

function faultsRoute(faults: Faults, method: string, url: URL, body: ControlBody): Reply {
  if (method === 'POST') setFaults(faults, body);
  else if (method === 'DELETE') faults.remaining = 0;
  else if (method !== 'GET') return notFound(method, url.pathname);
  return json(200, { failNext: faults.remaining, status: faults.status });
}

function notFound(method: string, path: string): Reply {
  throw new StripeApiError(404, { type: 'invalid_request_error', message: `Unrecognized sandbox URL (${method}: ${path})` });
}

function outcomeOf(s: string): Outcome {
  if (!OUTCOMES.includes(s as Outcome)) throw invalidRequest(`Invalid outcome: must be one of ${OUTCOMES.join(', ')}`, 'outcome');
  return s as Outcome;
}

function sessionOutcome(ctx: ApiContext, id: string, outcome: Outcome, body: ControlBody): object {
  const rec = ctx.store.session(id, undefined);
  expireIfDue(ctx, rec);
  if (outcome === 'expire') return expireSession(ctx, rec);
  if (outcome === 'dispute') return openDispute(ctx, paidCharge(ctx, rec, id), disputeInput(body));
  if (outcome !== 'refund') return checkoutOutcome(ctx, rec, outcome);
  // A refund from the dashboard: no API request behind it.
  const intent = typeof rec.object.payment_intent === 'string' ? rec.object.payment_intent : undefined;
  if (!intent || rec.object.payment_status !== 'paid')
    throw invalidRequest(`Checkout Session ${id} has no paid charge to refund.`, 'session');
  const amount = body.amount === undefined || body.amount === '' ? undefined : Number(body.amount);
  if (amount !== undefined && (!Number.isSafeInteger(amount) || amount < 1))
    throw invalidRequest(`Invalid integer: ${String(body.amount)}`, 'amount', 'parameter_invalid_integer');
  return refund(ctx, undefined, { paymentIntent: intent, amount }, NO_REQUEST);
}

/** The succeeded charge behind a paid session (what a refund or a dispute of it is about). */
function paidCharge(ctx: ApiContext, rec: ReturnType<ApiContext['store']['session']>, id: string) {
  const intent = typeof rec.object.payment_intent === 'string' ? ctx.store.intents.get(rec.object.payment_intent) : undefined;
  const charge =
    typeof intent?.object.latest_charge === 'string' ? ctx.store.charges.get(intent.object.latest_charge) : undefined;
  if (!charge || rec.object.payment_status !== 'paid')
    throw invalidRequest(`Checkout Session ${id} has no paid charge.`, 'session');
  return charge;
}

function disputeInput(body: ControlBody) {
  const amount = body.amount === undefined || body.amount === '' ? undefined : Number(body.amount);
  if (amount !== undefined && (!Number.isSafeInteger(amount) || amount < 1))
    throw invalidRequest(`Invalid integer: ${String(body.amount)}`, 'amount', 'parameter_invalid_integer');
  return { amount, reason: typeof body.reason === 'string' ? body.reason : undefined };
}

function disputeOutcome(body: ControlBody): 'won' | 'lost' {
  if (body.outcome !== 'won' && body.outcome !== 'lost') throw invalidRequest('outcome must be "won" or "lost"', 'outcome');
  return body.outcome;
}

/**
 * The account's owner disconnects the platform (Stripe dashboard → "Disconnect"): Stripe sends
 * account.application.deauthorized, then refuses every call the platform makes for the account.
 */
function deauthorize(ctx: ApiContext, accountId: string) {
  ctx.store.account(accountId);
  if (ctx.store.deauthorized.has(accountId)) return { id: accountId, deauthorized: true };
  const application: Stripe.Application = { id: 'ca_sandbox_platform', object: 'application', name: 'Agency Accounts (sandbox)' };
  ctx.events.emit('account.application.deauthorized', application, { scope: accountId, request: NO_REQUEST });
  ctx.store.deauthorized.add(accountId);
  return { id: accountId, deauthorized: true };
}

/**
 * A charge the account's owner makes itself, with its own API key (a PaymentIntent confirmed
 * with a test card, or with `paymentIntent: false` a bare Charges-API charge): nothing the
 * platform asked for, with whatever metadata the owner writes. Refund it with POST /v1/refunds
 * and Stripe-Account: the events Stripe sends then are exactly those an agency can cause.
 */
function ownCharge(ctx: ApiContext, accountId: string, body: ControlBody) {
  ctx.store.account(accountId);
  const amount = Number(body.amount);
  if (!Number.isSafeInteger(amount) || amount < 1) throw invalidRequest('amount: a positive integer', 'amount');
  const currency = typeof body.currency === 'string' ? body.currency : 'usd';
  const metadata = Object.fromEntries(
    Object.entries((body.metadata ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
  );
  return chargeOnAccount(ctx, accountId, { amount, currency, metadata, withIntent: body.paymentIntent !== false });
}

function listDeliveries(ctx: ApiContext, url: URL) {
  const q = url.searchParams;
  return ctx.events.deliveries
    .filter((d) => (!q.get('type') || d.type === q.get('type')) && (!q.get('account') || d.account === q.get('account')))
    .filter((d) => !q.get('id') || d.id === q.get('id'))
    .slice()
    .reverse();
}

/** What the API answered, as Stripe's request logs let an integrator see it (tests count sessions created vs replayed). */
function listRequests(ctx: ApiContext, url: URL) {
  const q = url.searchParams;
  const account = q.get('account');
  return ctx.store.requests
    .filter((r) => (!account || r.account === account) && (!q.get('method') || r.method === q.get('method')))
    .filter((r) => !q.get('path') || r.path === q.get('path'))
    .slice()
    .reverse();
}

function setFaults(faults: Faults, body: ControlBody): void {
  const n = Number(body.failNext);
  if (!Number.isSafeInteger(n) || n < 0) throw invalidRequest('failNext must be a non-negative integer', 'failNext');
  const status = body.status === undefined ? 500 : body.status === 'timeout' ? 'timeout' : Number(body.status);
  if (status !== 'timeout' && status !== 500 && status !== 503 && status !== 429 && status !== 400 && status !== 403)
    throw invalidRequest('status must be 500, 503, 429, 400, 403 or "timeout"', 'status');
  faults.remaining = n;
  faults.status = status;
}

function merchantName(ctx: ApiContext, scope: string | null): string {
  if (!scope) return 'Platform (sandbox)';
  const account = ctx.store.accounts.get(scope);
  return account?.business_profile?.name ?? account?.email ?? scope;
}

function onboardingRoute(ctx: ApiContext, method: string, accountId: string, url: URL): Reply {
  const account = ctx.store.account(accountId);
  const linkId = url.searchParams.get('link');
  const link = linkId ? ctx.store.accountLinks.get(linkId) : undefined;
  if (linkId && (!link || link.account !== accountId)) throw invalidRequest('This account link is not valid.', 'link');
  // As at Stripe, a used or expired link sends the person to refresh_url for a fresh one.
  const stale = link && (link.used || link.expiresAt < nowSeconds());
  if (method === 'GET') {
    if (stale && link.refreshUrl) return redirect(link.refreshUrl, 302);
    const action = `/sandbox/pages/onboard/${encodeURIComponent(accountId)}${linkId ? `?link=${encodeURIComponent(linkId)}` : ''}`;
    return html(200, onboardingPage(account, action));
  }
  if (method !== 'POST') return notFound(method, url.pathname);
  if (stale && link.refreshUrl) return redirect(link.refreshUrl, 303);
  const updated: Stripe.Account = onboard(ctx, accountId);
  if (link) link.used = true;
  return link?.returnUrl ? redirect(link.returnUrl, 303) : html(200, onboardingDonePage(updated));
}

function setupPageAction(ctx: ApiContext, id: string, card: CardKind): Reply {
  const rec = ctx.store.session(id, undefined);
  expireIfDue(ctx, rec);
  if (rec.object.status !== 'open') return html(200, checkoutPage(rec, { merchant: merchantName(ctx, rec.scope) }));
  completeSetup(ctx, rec, card);
  const success = rec.object.success_url;
  return success
    ? redirect(success.replaceAll('{CHECKOUT_SESSION_ID}', rec.object.id), 303)
    : html(200, checkoutPage(rec, { merchant: merchantName(ctx, rec.scope) }));
}

function checkoutPageAction(ctx: ApiContext, id: string, outcome: Outcome): Reply {
  const rec = ctx.store.session(id, undefined);
  expireIfDue(ctx, rec);
  const merchant = merchantName(ctx, rec.scope);
  if (outcome === 'refund' || outcome === 'dispute')
    throw invalidRequest('Refunds and disputes are not made from the Checkout page.', 'outcome');
  if (outcome === 'expire') {
    if (rec.object.status === 'open') expireSession(ctx, rec);
    return html(200, checkoutPage(rec, { merchant }));
  }
  if (rec.object.status !== 'open') return html(200, checkoutPage(rec, { merchant }));
  try {
    checkoutOutcome(ctx, rec, outcome);
  } catch (err) {
    if (err instanceof StripeApiError && err.status === 402)
      return html(402, checkoutPage(rec, { merchant, error: err.body.message ?? 'Your card was declined.' }));
    throw err;
  }
  const success = rec.object.success_url;
  return success
    ? redirect(success.replaceAll('{CHECKOUT_SESSION_ID}', rec.object.id), 303)
    : html(200, checkoutPage(rec, { merchant }));
}
