import { now, nowIso, nowMs } from '#core/clock';
import { secret } from '#core/env';
import { AppError } from '#core/errors';
import { isIdOf } from '#core/ids';
import { logger } from '#core/logger';
import { count } from '#core/metrics';
import * as z from '#core/zod';
import { closePurchase, getPurchase, type PurchaseItem } from '#db/items/purchase';
import { applyAccountState, getStripeAccountOwner, markAccountDeauthorized } from '#db/items/reselling-settings';
import { getStripeEvent, recordStripeEvent } from '#db/items/stripe-event';
import { getStripePayment, parkStripePayment } from '#db/items/stripe-payment';
import { isSetupSession, type Judged, onPaymentIntent, onSetupSession } from '../auto-top-up/stripe-events';
import { resellingConfig } from './config';
import type { WebhookOutcome } from './event-types';
import { landPayment } from './landing';
import { settlePayment } from './settlement';
import { verifyStripeSignature } from './stripe-signature';

/**
 * Stripe's webhooks: `connect` (events of the agencies' connected accounts) and `platform`
 * (the platform's own account). The signature, over the exact bytes received, is the only
 * authentication; a bad one is a 400 and nothing changes. A verified event is then believed
 * only as far as it matches what the platform made, in the configured live/test mode:
 * - a payment only from the Checkout Session the platform created for the purchase and
 *   attached to it, on the account that sells it (owned by the purchase's agency), for its
 *   amount and currency;
 * - a refund or dispute only for the PaymentIntent that session bound to the purchase, and
 *   then only as Stripe's own refund and dispute objects say (settlement.ts).
 * An agency has full API access to its own Stripe account and writes its charges' metadata,
 * so metadata is never evidence. Anything else is logged and answered 200 (Stripe stops
 * resending it); 5xx only for a transient failure, so that Stripe retries.
 */
export type WebhookEndpoint = 'platform' | 'connect';

const TOLERANCE_SECONDS = 300;

const eventShape = z.looseObject({
  id: z.string().check(z.minLength(1), z.maxLength(255)),
  type: z.string().check(z.minLength(1), z.maxLength(255)),
  account: z.nullish(z.string().check(z.maxLength(255))),
  livemode: z.boolean(),
  created: z.number(),
  data: z.looseObject({ object: z.looseObject({}) }),
});
type StripeEvent = z.infer<typeof eventShape>;

const idOf = z.nullish(z.union([z.string(), z.looseObject({ id: z.string() })]));
const idString = (v: z.infer<typeof idOf>) => (typeof v === 'string' ? v : (v?.id ?? undefined));
const metadata = z.nullish(z.record(z.string(), z.string()));
const sessionShape = z.looseObject({
  id: z.string(),
  amount_total: z.nullable(z.number()),
  currency: z.nullable(z.string()),
  client_reference_id: z.nullish(z.string()),
  metadata,
  payment_status: z.string(),
  payment_intent: idOf,
});
/** Charges, refunds and disputes all name the PaymentIntent they belong to: the only field believed. */
const ofPayment = z.looseObject({ id: z.string(), payment_intent: idOf });
const accountShape = z.looseObject({ id: z.string(), charges_enabled: z.boolean(), details_submitted: z.boolean() });

export type { WebhookOutcome };

const invalid = (message: string) =>
  new AppError('invalid_request', `Stripe-Signature: ${message}`, [{ field: 'Stripe-Signature', message }]);

/** Verifies the signature over the raw body, then handles the event once. */
export async function handleStripeWebhook(
  endpoint: WebhookEndpoint,
  raw: Buffer | string | undefined,
  signature: string | undefined,
): Promise<{ received: true; outcome: WebhookOutcome }> {
  const key = await secret(endpoint === 'connect' ? 'STRIPE_CONNECT_WEBHOOK_SECRET' : 'STRIPE_WEBHOOK_SECRET').catch(() => {
    logger.error('Stripe webhook secret is not configured', { endpoint });
    throw new AppError('try_again', 'Webhooks are not configured yet', undefined, { retryAfterSeconds: 60 });
  });
  if (raw === undefined || raw.length === 0) throw invalid('no body to verify');
  if (!signature) throw invalid('missing');
  let verified: unknown;
  try {
    verified = verifyStripeSignature(raw, signature, key, TOLERANCE_SECONDS, nowMs());
  } catch (err) {
    count('StripeWebhookRejected');
    throw invalid(err instanceof SyntaxError ? 'the body is not JSON' : (err as Error).message);
  }
  const parsed = eventShape.safeParse(verified);
  if (!parsed.success) throw invalid('the body is not a Stripe event');
  const event = parsed.data;

  const outcome = await handleOnce(endpoint, event);
  logger.info('Stripe event', { endpoint, eventId: event.id, type: event.type, account: event.account ?? null, outcome });
  return { received: true, outcome };
}

async function handleOnce(endpoint: WebhookEndpoint, event: StripeEvent): Promise<WebhookOutcome> {
  if (event.livemode !== resellingConfig().livemode) return ignored(event, 'live/test mode is not the configured one');
  if ((endpoint === 'connect') !== Boolean(event.account)) return ignored(event, `not an event of the ${endpoint} endpoint`);
  if (await getStripeEvent(event.id)) return 'duplicate';
  const outcome = await dispatch(event);
  // An ignored event is not remembered: were it sent again, it is judged again (nothing it could change has changed).
  if (outcome === 'ignored') return outcome;
  await recordStripeEvent({
    eventId: event.id,
    type: event.type,
    account: event.account ?? null,
    outcome,
    handledAt: nowIso(),
  });
  return outcome;
}

function ignored(event: StripeEvent, why: string): 'ignored' {
  logger.warn('Stripe event ignored', { eventId: event.id, type: event.type, account: event.account ?? null, why });
  count('StripeEventIgnored');
  return 'ignored';
}

async function dispatch(event: StripeEvent): Promise<WebhookOutcome> {
  switch (event.type) {
    case 'checkout.session.completed':
    case 'checkout.session.async_payment_succeeded':
    case 'checkout.session.async_payment_failed':
    case 'checkout.session.expired':
      return onSession(event);
    case 'charge.refunded':
    case 'charge.refund.updated':
    case 'charge.dispute.created':
    case 'charge.dispute.updated':
    case 'charge.dispute.closed':
    case 'charge.dispute.funds_withdrawn':
    case 'charge.dispute.funds_reinstated':
      return onRefundOrDispute(event);
    case 'payment_intent.succeeded':
    case 'payment_intent.payment_failed':
      return event.account
        ? ignored(event, 'a connected account’s PaymentIntent')
        : judged(event, await onPaymentIntent(event.data.object));
    case 'account.updated':
      return onAccount(event);
    case 'account.application.deauthorized':
      return onDeauthorized(event);
    default:
      return ignored(event, 'not an event the platform acts on');
  }
}

/**
 * The purchase a Checkout Session event is about, if the event is believable for it: the
 * session is the one the platform created for the purchase and attached to it, on the account
 * that sells it (owned by the purchase's agency), for its amount and currency.
 */
async function purchaseOfSession(event: StripeEvent, s: z.infer<typeof sessionShape>): Promise<PurchaseItem | string> {
  const ref = s.client_reference_id ?? s.metadata?.purchaseId;
  if (!ref || !isIdOf(ref, ['purchase'])) return 'it names no purchase';
  const [purchase, owner] = await Promise.all([
    getPurchase(ref),
    event.account ? getStripeAccountOwner(event.account) : undefined,
  ]);
  if (!purchase) return 'unknown purchase';
  if ((event.account ?? null) !== purchase.stripeAccountId) return "not the purchase's selling account";
  if (event.account && owner?.agencyId !== purchase.agencyId) return "the account is not the purchase's agency's";
  if (!purchase.checkoutSessionId) return 'the purchase has no Checkout Session yet (nobody was shown one to pay)';
  if (s.id !== purchase.checkoutSessionId) return "not the purchase's Checkout Session";
  if (s.amount_total !== purchase.amount || s.currency !== purchase.currency) return "not the purchase's amount or currency";
  return purchase;
}

/** An auto top-up handler's verdict: an outcome, or why it was ignored. */
const judged = (event: StripeEvent, verdict: Judged): WebhookOutcome =>
  typeof verdict === 'string' ? verdict : ignored(event, verdict.ignored);

async function onSession(event: StripeEvent): Promise<WebhookOutcome> {
  if (event.type === 'checkout.session.completed' && !event.account && isSetupSession(event.data.object))
    return judged(event, await onSetupSession(event.data.object));
  const parsed = sessionShape.safeParse(event.data.object);
  if (!parsed.success) return ignored(event, 'not a Checkout Session');
  const s = parsed.data;
  const found = await purchaseOfSession(event, s);
  if (typeof found === 'string') return ignored(event, found);
  const facts = { checkoutSessionId: s.id, paymentIntentId: idString(s.payment_intent) };

  const paid =
    event.type === 'checkout.session.async_payment_succeeded' ||
    (event.type === 'checkout.session.completed' && (s.payment_status === 'paid' || s.payment_status === 'no_payment_required'));
  if (paid) {
    const outcome = await landPayment(found, facts);
    if (outcome === 'not_this_purchase') return ignored(event, 'the purchase or its payment is bound to another session');
    if (outcome === 'refunded_account_closed') return outcome;
    return outcome === 'credited' ? 'paid' : 'already_paid';
  }
  if (event.type === 'checkout.session.completed') return 'awaiting_payment';
  const to = event.type === 'checkout.session.expired' ? 'expired' : 'failed';
  return (await closePurchase(found, to, facts, nowIso()))
    ? to
    : ignored(event, `the purchase is no longer pending (${found.status})`);
}

/**
 * A refund or dispute of a payment: believed only for a payment bound to a purchase by its own
 * Checkout Session (charge metadata is the agency's to write, never evidence). It only says
 * "settle again": settlement.ts reads the payment's refunds and disputes from Stripe. One that
 * arrives before its payment is parked on the payment and settled once the payment lands.
 */
async function onRefundOrDispute(event: StripeEvent): Promise<WebhookOutcome> {
  const parsed = ofPayment.safeParse(event.data.object);
  if (!parsed.success) return ignored(event, 'not a charge, refund or dispute');
  const paymentIntentId = idString(parsed.data.payment_intent);
  if (!paymentIntentId) return ignored(event, 'it names no PaymentIntent, so no purchase of ours');
  const account = event.account ?? null;
  const bound = (await getStripePayment(account, paymentIntentId))?.purchaseId;
  const purchaseId = bound ?? (await parkStripePayment(account, paymentIntentId, now()));
  if (!purchaseId) {
    logger.info('refund or dispute parked until its payment lands', { eventId: event.id, paymentIntentId, account });
    return 'parked';
  }
  const outcome = await settlePayment(purchaseId);
  return outcome === 'settled' ? 'settled' : 'duplicate';
}

async function onAccount(event: StripeEvent): Promise<WebhookOutcome> {
  const parsed = accountShape.safeParse(event.data.object);
  if (!parsed.success || parsed.data.id !== event.account) return ignored(event, 'not the account the event is for');
  const owner = await getStripeAccountOwner(parsed.data.id);
  if (!owner) return ignored(event, 'no agency owns this account');
  const applied = await applyAccountState(owner.agencyId, parsed.data.id, {
    chargesEnabled: parsed.data.charges_enabled,
    detailsSubmitted: parsed.data.details_submitted,
    eventCreated: event.created,
    at: nowIso(),
  });
  return applied ? 'account_updated' : ignored(event, 'a later account state was applied already, or the account was replaced');
}

/**
 * The agency disconnected the platform from its Stripe account: it can no longer sell through
 * it (offers answer 409 reselling_not_ready) until it connects again, which replaces the account.
 */
async function onDeauthorized(event: StripeEvent): Promise<WebhookOutcome> {
  if (!event.account) return ignored(event, 'no account named');
  const owner = await getStripeAccountOwner(event.account);
  if (!owner) return ignored(event, 'no agency owns this account');
  const applied = await markAccountDeauthorized(owner.agencyId, event.account, nowIso());
  return applied ? 'account_deauthorized' : ignored(event, 'the account was replaced already');
}
