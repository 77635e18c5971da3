import type Stripe from 'stripe';
import { invalidRequest, StripeApiError } from './errors';
import { type EventBus, type EventRequest, NO_REQUEST } from './events';
import { newId, nowSeconds } from './ids';
import { onboardedFields } from './objects-account';
import { buildCharge, buildPaymentIntent, type ChargeState, type PaymentMethodKind } from './objects-payment';
import type { SessionRecord, Store } from './store';

/**
 * What happens at Stripe when someone acts: the connected account finishes onboarding,
 * the customer pays (or fails to) on the Checkout page, a session expires (refunds are in
 * refunds.ts). Each changes the stored objects as Stripe would and emits the events Stripe
 * sends, in Stripe's order. Shared by the API routes, the control routes and the pages.
 */
export interface Ctx {
  store: Store;
  events: EventBus;
}

export function onboard(ctx: Ctx, accountId: string): Stripe.Account {
  const account = ctx.store.account(accountId);
  if (account.charges_enabled) return account; // nothing changes, so Stripe sends nothing
  const changes = onboardedFields(account, nowSeconds());
  const previous = structuredClone(pick(account, Object.keys(changes) as (keyof Stripe.Account)[]));
  Object.assign(account, changes);
  ctx.events.emit('account.updated', account, { scope: account.id, request: NO_REQUEST, previous });
  return account;
}

export type Outcome = 'pay' | 'decline' | 'pay_async_success' | 'pay_async_failure' | 'expire' | 'refund' | 'dispute';
export const OUTCOMES: readonly Outcome[] = [
  'pay',
  'decline',
  'pay_async_success',
  'pay_async_failure',
  'expire',
  'refund',
  'dispute',
];

function requireOpen(rec: SessionRecord): void {
  if (rec.object.status !== 'open')
    throw invalidRequest(
      `This Checkout Session is no longer active (status "${rec.object.status}"); only open sessions can be paid.`,
      undefined,
      'checkout_session_not_active',
    );
}

/** Checkout creates the PaymentIntent on the customer's first attempt, with payment_intent_data. */
function intentFor(ctx: Ctx, rec: SessionRecord): Stripe.PaymentIntent {
  const s = rec.object;
  const existing = typeof s.payment_intent === 'string' ? ctx.store.intents.get(s.payment_intent) : undefined;
  if (existing) return existing.object;
  const intent = buildPaymentIntent({
    amount: s.amount_total ?? 0,
    currency: s.currency ?? 'usd',
    applicationFeeAmount: rec.intentData.applicationFeeAmount,
    metadata: rec.intentData.metadata,
    description: rec.intentData.description,
    receiptEmail: s.customer_email,
    created: nowSeconds(),
  });
  ctx.store.intents.set(intent.id, { scope: rec.scope, object: intent });
  s.payment_intent = intent.id;
  ctx.events.emit('payment_intent.created', intent, { scope: rec.scope, request: NO_REQUEST });
  return intent;
}

function attempt(ctx: Ctx, rec: SessionRecord, kind: PaymentMethodKind, state: ChargeState) {
  const intent = intentFor(ctx, rec);
  const email = rec.object.customer_email ?? 'customer@example.test';
  const charge = buildCharge(intent, kind, state, email, nowSeconds());
  ctx.store.charges.set(charge.id, { scope: rec.scope, object: charge });
  intent.latest_charge = charge.id;
  intent.payment_method = charge.payment_method;
  intent.payment_method_types = [kind === 'sepa_debit' ? 'sepa_debit' : 'card'];
  return { intent, charge, email };
}

function complete(ctx: Ctx, rec: SessionRecord, email: string, paid: boolean): void {
  const s = rec.object;
  s.status = 'complete';
  s.payment_status = paid ? 'paid' : 'unpaid';
  s.url = null;
  s.customer_details = {
    address: null,
    business_name: null,
    email,
    individual_name: null,
    name: 'Sandbox Customer',
    phone: null,
    tax_exempt: 'none',
    tax_ids: [],
  };
  ctx.events.emit('checkout.session.completed', s, { scope: rec.scope, request: NO_REQUEST });
}

function succeed(ctx: Ctx, rec: SessionRecord, intent: Stripe.PaymentIntent, charge: Stripe.Charge): void {
  Object.assign(charge, {
    status: 'succeeded',
    paid: true,
    captured: true,
    amount_captured: charge.amount,
    balance_transaction: newId('txn'),
    application_fee: intent.application_fee_amount === null ? null : newId('fee'),
  } satisfies Partial<Stripe.Charge>);
  Object.assign(intent, { status: 'succeeded', amount_received: intent.amount, last_payment_error: null });
  ctx.events.emit('charge.succeeded', charge, { scope: rec.scope, request: NO_REQUEST });
  ctx.events.emit('payment_intent.succeeded', intent, { scope: rec.scope, request: NO_REQUEST });
}

function fail(
  ctx: Ctx,
  rec: SessionRecord,
  intent: Stripe.PaymentIntent,
  charge: Stripe.Charge,
  error: Stripe.PaymentIntent.LastPaymentError,
  failureCode: string,
): void {
  Object.assign(charge, { status: 'failed', failure_code: failureCode, failure_message: error.message ?? null });
  Object.assign(intent, { status: 'requires_payment_method', last_payment_error: error });
  ctx.events.emit('charge.failed', charge, { scope: rec.scope, request: NO_REQUEST });
  ctx.events.emit('payment_intent.payment_failed', intent, { scope: rec.scope, request: NO_REQUEST });
}

/** The customer pays on the Checkout page; returns the session, or throws Stripe's 402 card error on decline. */
export function checkoutOutcome(ctx: Ctx, rec: SessionRecord, outcome: Exclude<Outcome, 'refund' | 'expire' | 'dispute'>) {
  requireOpen(rec);
  if (outcome === 'pay') {
    const { intent, charge, email } = attempt(ctx, rec, 'card', 'pending');
    succeed(ctx, rec, intent, charge);
    complete(ctx, rec, email, true);
  } else if (outcome === 'decline') {
    const { intent, charge } = attempt(ctx, rec, 'card_declined', 'failed');
    const error: Stripe.PaymentIntent.LastPaymentError = {
      type: 'card_error',
      code: 'card_declined',
      decline_code: 'generic_decline',
      message: 'Your card was declined.',
      charge: charge.id,
      doc_url: 'https://stripe.com/docs/error-codes/card-declined',
    };
    fail(ctx, rec, intent, charge, error, 'card_declined');
    const { code, decline_code, message, doc_url } = error;
    throw new StripeApiError(402, {
      type: 'card_error',
      code,
      decline_code,
      message,
      doc_url,
      charge: charge.id,
      payment_intent: intent,
    });
  } else {
    // A bank debit: the session completes unpaid, then the debit settles (at Stripe, days later).
    const { intent, charge, email } = attempt(ctx, rec, 'sepa_debit', 'pending');
    intent.status = 'processing';
    ctx.events.emit('payment_intent.processing', intent, { scope: rec.scope, request: NO_REQUEST });
    ctx.events.emit('charge.pending', charge, { scope: rec.scope, request: NO_REQUEST });
    complete(ctx, rec, email, false);
    if (outcome === 'pay_async_success') {
      succeed(ctx, rec, intent, charge);
      rec.object.payment_status = 'paid';
      ctx.events.emit('checkout.session.async_payment_succeeded', rec.object, { scope: rec.scope, request: NO_REQUEST });
    } else {
      fail(
        ctx,
        rec,
        intent,
        charge,
        {
          type: 'invalid_request_error',
          code: 'payment_intent_payment_attempt_failed',
          message: "The customer's account has insufficient funds to cover this payment.",
          charge: charge.id,
        },
        'insufficient_funds',
      );
      ctx.events.emit('checkout.session.async_payment_failed', rec.object, { scope: rec.scope, request: NO_REQUEST });
    }
  }
  return rec.object;
}

/** Expiry by the API (`request` set), by the control route or page, or because expires_at passed. */
export function expireSession(ctx: Ctx, rec: SessionRecord, request: EventRequest = NO_REQUEST): Stripe.Checkout.Session {
  const s = rec.object;
  if (s.status !== 'open')
    throw invalidRequest(
      `Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of "${s.status}".`,
      'session',
    );
  s.status = 'expired';
  s.url = null;
  const intent = typeof s.payment_intent === 'string' ? ctx.store.intents.get(s.payment_intent) : undefined;
  if (intent && intent.object.status !== 'succeeded') {
    Object.assign(intent.object, { status: 'canceled', canceled_at: nowSeconds(), cancellation_reason: 'abandoned' });
    ctx.events.emit('payment_intent.canceled', intent.object, { scope: rec.scope, request: NO_REQUEST });
  }
  ctx.events.emit('checkout.session.expired', s, { scope: rec.scope, request });
  return s;
}

/** Stripe expires an open session once expires_at has passed; done lazily when it is next looked at. */
export function expireIfDue(ctx: Ctx, rec: SessionRecord): void {
  if (rec.object.status === 'open' && rec.object.expires_at <= nowSeconds()) expireSession(ctx, rec);
}

function pick<T extends object, K extends keyof T>(obj: T, keys: K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const k of keys) out[k] = obj[k];
  return out;
}

/** A succeeded charge made on an account outside Checkout (see the `charges` control route). */
export function chargeOnAccount(
  ctx: Ctx,
  scope: string,
  input: { amount: number; currency: string; metadata: Record<string, string>; withIntent: boolean },
) {
  const intent = buildPaymentIntent({
    amount: input.amount,
    currency: input.currency,
    applicationFeeAmount: null,
    metadata: input.metadata,
    description: null,
    receiptEmail: null,
    created: nowSeconds(),
  });
  const charge = buildCharge(intent, 'card', 'succeeded', null, nowSeconds());
  Object.assign(charge, { paid: true, captured: true, status: 'succeeded' } satisfies Partial<Stripe.Charge>);
  if (!input.withIntent) charge.payment_intent = null;
  else {
    Object.assign(intent, { status: 'succeeded', amount_received: intent.amount, latest_charge: charge.id });
    ctx.store.intents.set(intent.id, { scope, object: intent });
  }
  ctx.store.charges.set(charge.id, { scope, object: charge });
  ctx.events.emit('charge.succeeded', charge, { scope, request: NO_REQUEST });
  if (input.withIntent) ctx.events.emit('payment_intent.succeeded', intent, { scope, request: NO_REQUEST });
  return { charge, paymentIntent: input.withIntent ? intent : null };
}
