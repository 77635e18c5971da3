import type Stripe from 'stripe';
import type { ApiContext, ApiRequest } from './api-context';
import { invalidRequest, StripeApiError } from './errors';
import { expand } from './expand';
import type { Ctx } from './flows';
import { newId, nowSeconds } from './ids';
import { buildCharge, buildPaymentIntent } from './objects-payment';
import type { Params } from './params';
import type { Scope, SessionRecord } from './store';

/**
 * Saved cards and off-session payments on the platform's own account: Customers, a setup-mode
 * Checkout Session that saves a card (its SetupIntent and PaymentMethod), and PaymentIntents
 * confirmed off session with that card. Test cards come in three kinds, as Stripe's do
 * (4242… succeeds, 0002 declines, 3155 needs authentication off session); the kind of a
 * customer's saved cards can be changed later (`/sandbox/customers/{id}/card`), to test a card
 * that starts failing.
 */
export const CARD_KINDS = ['success', 'decline', 'authentication_required'] as const;
export type CardKind = (typeof CARD_KINDS)[number];

const LAST4: Record<CardKind, string> = { success: '4242', decline: '0002', authentication_required: '3155' };

export function cardKindOf(value: unknown): CardKind {
  if (!CARD_KINDS.includes(value as CardKind)) throw invalidRequest(`card must be one of ${CARD_KINDS.join(', ')}`, 'card');
  return value as CardKind;
}

export function createCustomer(ctx: ApiContext, req: ApiRequest, p: Params): Stripe.Customer {
  const email = p.str('email', { max: 512 }) ?? null;
  const name = p.str('name', { max: 256 }) ?? null;
  const metadata = p.metadata('metadata');
  p.done();
  const customer = {
    id: newId('cus', 14),
    object: 'customer',
    created: nowSeconds(),
    email,
    name,
    metadata,
    livemode: false,
    invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
  } as unknown as Stripe.Customer;
  ctx.store.customers.set(customer.id, { scope: req.scope, object: customer });
  return customer;
}

/** The setup page's button: a card of `kind` saved for the session's customer; checkout.session.completed is sent. */
export function completeSetup(ctx: Ctx, rec: SessionRecord, kind: CardKind): Stripe.Checkout.Session {
  const s = rec.object;
  if (s.mode !== 'setup') throw invalidRequest(`Checkout Session ${s.id} is not in setup mode.`, 'session');
  if (s.status !== 'open')
    throw invalidRequest(
      `This Checkout Session is no longer active (status "${s.status}").`,
      undefined,
      'checkout_session_not_active',
    );
  const customer = typeof s.customer === 'string' ? s.customer : null;
  if (!customer) throw invalidRequest('A setup session needs a customer.', 'customer');
  const pm = {
    id: newId('pm'),
    object: 'payment_method',
    type: 'card',
    created: nowSeconds(),
    customer,
    livemode: false,
    metadata: {},
    billing_details: { address: null, email: null, name: 'Sandbox Customer', phone: null, tax_id: null },
    card: {
      brand: 'visa',
      display_brand: 'visa',
      country: 'US',
      exp_month: 12,
      exp_year: new Date().getUTCFullYear() + 3,
      funding: 'credit',
      last4: LAST4[kind],
      fingerprint: newId('fp', 16).slice(3),
      networks: { available: ['visa'], preferred: null },
    },
  } as unknown as Stripe.PaymentMethod;
  ctx.store.paymentMethods.set(pm.id, { scope: rec.scope, object: pm, kind });
  const seti = {
    id: newId('seti'),
    object: 'setup_intent',
    created: nowSeconds(),
    customer,
    payment_method: pm.id,
    status: 'succeeded',
    usage: 'off_session',
    livemode: false,
    metadata: {},
  } as unknown as Stripe.SetupIntent;
  ctx.store.setupIntents.set(seti.id, { scope: rec.scope, object: seti });
  Object.assign(s, { status: 'complete', setup_intent: seti.id, url: null });
  ctx.events.emit('checkout.session.completed', s, { scope: rec.scope, request: { id: null, idempotency_key: null } });
  return s;
}

/** Every saved card of the customer becomes `kind` (a card that starts failing, or works again). */
export function setCustomerCard(ctx: Ctx, customerId: string, kind: CardKind) {
  if (!ctx.store.customers.has(customerId))
    throw invalidRequest(`No such customer: '${customerId}'`, 'customer', 'resource_missing');
  let changed = 0;
  for (const rec of ctx.store.paymentMethods.values()) {
    if (rec.object.customer === customerId) {
      rec.kind = kind;
      if (rec.object.card) rec.object.card.last4 = LAST4[kind];
      changed++;
    }
  }
  return { customer: customerId, card: kind, paymentMethods: changed };
}

export function detachPaymentMethod(ctx: ApiContext, req: ApiRequest, p: Params, id: string): Stripe.PaymentMethod {
  p.done();
  const rec = ctx.store.paymentMethod(id, req.scope);
  if (!rec.object.customer)
    throw invalidRequest(
      `The payment method you provided is not attached to a customer so detachment is impossible.`,
      undefined,
      'payment_method_unexpected_state',
    );
  rec.object.customer = null;
  return rec.object;
}

/**
 * POST /v1/payment_intents with customer, payment_method, confirm and off_session: the saved
 * card is charged at once. As at Stripe, a declined card and one that needs authentication
 * off session both answer 402 (`card_declined`, `authentication_required`) with the
 * PaymentIntent in the error, left in `requires_payment_method`, and send
 * payment_intent.payment_failed; a good card answers the succeeded PaymentIntent and sends
 * payment_intent.succeeded. The platform's Idempotency-Key replays either answer.
 */
export function createPaymentIntent(ctx: ApiContext, req: ApiRequest, p: Params): Stripe.PaymentIntent {
  const amount = p.int('amount', { required: true, min: 1, max: 99_999_999 });
  const currency = p.str('currency', { required: true }).toLowerCase();
  const customer = p.str('customer');
  const paymentMethod = p.str('payment_method');
  const confirm = p.bool('confirm') ?? false;
  const offSession = p.bool('off_session') ?? false;
  const metadata = p.metadata('metadata');
  const description = p.str('description', { max: 1000 }) ?? null;
  const paths = p.expand();
  p.done();
  if (!confirm || !offSession || !paymentMethod || !customer)
    throw invalidRequest(
      'The local Stripe sandbox models only PaymentIntents created with customer, payment_method, confirm=true and off_session=true.',
    );
  if (!ctx.store.customers.get(customer) || ctx.store.customers.get(customer)?.scope !== req.scope)
    throw invalidRequest(`No such customer: '${customer}'`, 'customer', 'resource_missing');
  const pm = ctx.store.paymentMethod(paymentMethod, req.scope);
  if (pm.object.customer !== customer)
    throw invalidRequest(
      `The provided PaymentMethod ${paymentMethod} was previously used without being attached to a Customer or was detached from a Customer, and may not be used again.`,
      'payment_method',
    );
  const intent = buildPaymentIntent({
    amount,
    currency,
    applicationFeeAmount: null,
    metadata,
    description,
    receiptEmail: null,
    created: nowSeconds(),
  });
  Object.assign(intent, { customer, payment_method: paymentMethod });
  ctx.store.intents.set(intent.id, { scope: req.scope, object: intent });
  const request = { id: req.requestId, idempotency_key: req.idempotencyKey };
  ctx.events.emit('payment_intent.created', intent, { scope: req.scope, request });
  const email = ctx.store.customers.get(customer)?.object.email ?? null;
  if (pm.kind === 'success') {
    const charge = buildCharge(intent, 'card', 'succeeded', email, nowSeconds());
    Object.assign(charge, { paid: true, captured: true, customer, payment_method: paymentMethod });
    ctx.store.charges.set(charge.id, { scope: req.scope, object: charge });
    Object.assign(intent, { status: 'succeeded', amount_received: amount, latest_charge: charge.id });
    ctx.events.emit('charge.succeeded', charge, { scope: req.scope, request });
    ctx.events.emit('payment_intent.succeeded', intent, { scope: req.scope, request });
    return expand(ctx.store, req.scope, intent, paths);
  }
  const declined = pm.kind === 'decline';
  const error: Stripe.PaymentIntent.LastPaymentError = declined
    ? {
        type: 'card_error',
        code: 'card_declined',
        decline_code: 'generic_decline',
        message: 'Your card was declined.',
        doc_url: 'https://stripe.com/docs/error-codes/card-declined',
      }
    : {
        type: 'card_error',
        code: 'authentication_required',
        decline_code: 'authentication_required',
        message: 'Your card was declined. This transaction requires authentication.',
        doc_url: 'https://stripe.com/docs/error-codes/authentication-required',
      };
  if (declined) {
    const charge = buildCharge(intent, 'card_declined', 'failed', email, nowSeconds());
    Object.assign(charge, { customer, payment_method: paymentMethod });
    ctx.store.charges.set(charge.id, { scope: req.scope, object: charge });
    intent.latest_charge = charge.id;
    error.charge = charge.id;
    ctx.events.emit('charge.failed', charge, { scope: req.scope, request });
  }
  Object.assign(intent, { status: 'requires_payment_method', last_payment_error: { ...error, payment_method: pm.object } });
  ctx.events.emit('payment_intent.payment_failed', intent, { scope: req.scope, request });
  throw new StripeApiError(402, { ...error, payment_intent: intent } as Stripe.StripeRawError);
}

/** Setup mode: `customer` required, no line items; the page's buttons save a card (completeSetup). */
export function isSetupSession(rec: SessionRecord): boolean {
  return rec.object.mode === 'setup';
}

export const scopeOfCustomer = (ctx: Ctx, id: string): Scope | undefined => ctx.store.customers.get(id)?.scope;
