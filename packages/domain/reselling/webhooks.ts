import { nowIso, nowMs } from '../../core/clock';
import { secret } from '../../core/env';
import { AppError } from '../../core/errors';
import { isIdOf } from '../../core/ids';
import { logger } from '../../core/logger';
import { count } from '../../core/metrics';
import * as z from '../../core/zod';
import { getPurchase, type PurchaseItem } from '../../db/items/purchase';
import { applyAccountState, getStripeAccountOwner } from '../../db/items/reselling-settings';
import { getStripeEvent, recordStripeEvent } from '../../db/items/stripe-event';
import { resellingConfig } from './config';
import { verifyStripeSignature } from './stripe-signature';
import { closePurchaseAs, creditPurchase, refundPurchase } from './transitions';

/**
 * Stripe's webhooks: `connect` (events of the agencies' connected accounts) and `platform`
 * (the platform's own account). The signature, over the exact bytes received, is the only
 * authentication; a bad one is a 400 and nothing changes. A verified event is then believed
 * only as far as it matches what we recorded: the purchase it names, on the account that
 * sells it (owned by the purchase's agency), for its amount and currency, in the configured
 * live/test mode; anything else is logged and answered 200 (Stripe stops resending it).
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
const chargeShape = z.looseObject({
  id: z.string(),
  amount: z.number(),
  amount_refunded: z.number(),
  currency: z.string(),
  payment_intent: idOf,
  metadata,
});
const accountShape = z.looseObject({ id: z.string(), charges_enabled: z.boolean(), details_submitted: z.boolean() });

export type WebhookOutcome =
  | 'paid'
  | 'already_paid'
  | 'awaiting_payment'
  | 'failed'
  | 'expired'
  | 'refunded'
  | 'account_updated'
  | 'duplicate'
  | 'ignored';

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
      return onRefund(event);
    case 'account.updated':
      return onAccount(event);
    default:
      return ignored(event, 'not an event the platform acts on');
  }
}

/**
 * The purchase an event names, if the event is believable for it: the selling account (whose
 * owner is the purchase's agency), the amount and currency, and its session or payment.
 */
async function purchaseOf(
  event: StripeEvent,
  ref: string | null | undefined,
  money: { amount: number | null; currency: string | null },
  ids: { checkoutSessionId?: string; paymentIntentId?: string },
): Promise<PurchaseItem | string> {
  if (!ref || !isIdOf(ref, ['purchase'])) return 'it names no purchase';
  const [purchase, owner] = await Promise.all([
    getPurchase(ref),
    event.account ? getStripeAccountOwner(event.account) : undefined,
  ]);
  if (!purchase) return 'unknown purchase';
  if ((event.account ?? null) !== purchase.stripeAccountId) return "not the purchase's selling account";
  if (event.account && owner?.agencyId !== purchase.agencyId) return "the account is not the purchase's agency's";
  if (money.amount !== purchase.amount || money.currency !== purchase.currency) return "not the purchase's amount or currency";
  if (ids.checkoutSessionId && purchase.checkoutSessionId && ids.checkoutSessionId !== purchase.checkoutSessionId)
    return "not the purchase's Checkout Session";
  if (ids.paymentIntentId && purchase.paymentIntentId && ids.paymentIntentId !== purchase.paymentIntentId)
    return "not the purchase's payment";
  return purchase;
}

async function onSession(event: StripeEvent): Promise<WebhookOutcome> {
  const parsed = sessionShape.safeParse(event.data.object);
  if (!parsed.success) return ignored(event, 'not a Checkout Session');
  const s = parsed.data;
  const facts = { checkoutSessionId: s.id, paymentIntentId: idString(s.payment_intent) };
  const found = await purchaseOf(
    event,
    s.client_reference_id ?? s.metadata?.purchaseId,
    { amount: s.amount_total, currency: s.currency },
    facts,
  );
  if (typeof found === 'string') return ignored(event, found);

  const paid =
    event.type === 'checkout.session.async_payment_succeeded' ||
    (event.type === 'checkout.session.completed' && (s.payment_status === 'paid' || s.payment_status === 'no_payment_required'));
  if (paid) {
    const outcome = await creditPurchase(found, facts);
    if (outcome === 'other_session') return ignored(event, 'the purchase is bound to another session');
    return outcome === 'credited' ? 'paid' : 'already_paid';
  }
  if (event.type === 'checkout.session.completed') return 'awaiting_payment';
  const to = event.type === 'checkout.session.expired' ? 'expired' : 'failed';
  return (await closePurchaseAs(found, to, facts)) ? to : ignored(event, `the purchase is no longer pending (${found.status})`);
}

async function onRefund(event: StripeEvent): Promise<WebhookOutcome> {
  const parsed = chargeShape.safeParse(event.data.object);
  if (!parsed.success) return ignored(event, 'not a Charge');
  const c = parsed.data;
  const paymentIntentId = idString(c.payment_intent);
  const found = await purchaseOf(event, c.metadata?.purchaseId, { amount: c.amount, currency: c.currency }, { paymentIntentId });
  if (typeof found === 'string') return ignored(event, found);
  if (c.amount_refunded <= 0) return ignored(event, 'nothing refunded');
  let purchase = found;
  if (purchase.status !== 'paid' && purchase.status !== 'refunded') {
    // A refunded charge was paid: its refund may overtake the payment's own event.
    await creditPurchase(purchase, { paymentIntentId, chargeId: c.id });
    purchase = (await getPurchase(purchase.id)) ?? purchase;
  }
  const outcome = await refundPurchase(purchase, { id: c.id, amountRefunded: c.amount_refunded, paymentIntentId });
  return outcome === 'refunded' ? 'refunded' : 'duplicate';
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
