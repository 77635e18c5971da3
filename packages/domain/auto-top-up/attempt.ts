import type Stripe from 'stripe';
import { now as clockNow, utcDate } from '#core/clock';
import { newId } from '#core/ids';
import { logger } from '#core/logger';
import { count } from '#core/metrics';
import { getAccount } from '#db/items/account';
import { type AutoTopUpItem, getAutoTopUp, putAutoTopUp, type TopUpAttempt } from '#db/items/auto-top-up';
import { poolKey } from '#db/items/balance';
import {
  getPurchase,
  markTopUpFailed,
  markTopUpPaid,
  type PurchaseItem,
  putTopUpPurchase,
  recordTopUpIntent,
} from '#db/items/purchase';
import { bindStripePayment, getStripePayment } from '#db/items/stripe-payment';
import { itemKinds } from '#db/schema';
import { type CommittedOrStale, committedOrStale, type NamedItem, throwing, unhandled } from '#db/transact';
import { commit, type Plan, type Stop } from '../ledger/commit';
import { requestHash } from '../ledger/entries';
import { newOutboxId, outboxWrite, type TopUpNoticeEvent } from '../outbox';
import { resellingConfig } from '../reselling/config';
import { platformTerms, priceLine } from '../reselling/offers';
import { paymentOf } from '../reselling/purchase-ledger';
import { StripeRequestError } from '../reselling/stripe-api';
import { requestOptions, stripe, stripeKey } from '../reselling/stripe-client';
import { MAX_FAILURES_IN_A_ROW, topUpDailyCap } from './config';
import { refusalInWords } from './words';

/**
 * One auto top-up per crossing (db/items/auto-top-up.ts says what a crossing is):
 * 1. `takeCrossing`: the pool was seen below the threshold while armed → ONE transaction
 *    disarms the settings (conditioned on their version) and writes the purchase (pending,
 *    `trigger: auto_top_up`, the crossing's number). However many debits or detector
 *    containers see the crossing, one of them writes it; the others find it disarmed.
 * 2. `sendAttempt`: an off-session PaymentIntent for the purchase, under a Stripe idempotency
 *    key derived from the agency and the crossing's number, so a retry (the detector's batch
 *    after a crash, a timeout) asks Stripe again and gets the same PaymentIntent. Its id is
 *    recorded on the purchase as soon as Stripe answers.
 * 3. `settleTopUp`: what Stripe says of THAT PaymentIntent (its answer, or a fresh read when an
 *    event comes) is believed only for the id recorded, with the purchase's amount and currency
 *    and the agency's own Customer. Succeeded → in one transaction the purchase is paid, the pool
 *    credited (a `purchase` entry keyed by the purchase: never twice), the payment bound (its
 *    refunds and disputes are then settled as any purchase's) and the settings told. Refused →
 *    the purchase fails, the agency is emailed why (or, when the bank asks for authentication,
 *    a link to a Checkout page where it can pay), and a third failure in a row turns it off.
 */
export type CrossingOutcome = 'taken' | 'capped' | 'not_below' | 'not_armed' | 'off';

const ROUNDS = 5;

export const topUpReady = (s: AutoTopUpItem | undefined): s is AutoTopUpItem & { threshold: number; credits: number } =>
  Boolean(s?.enabled && s.threshold !== null && s.credits && s.paymentMethod && s.stripeCustomerId);

/** Judges the pool at `balance` for a crossing, and takes it (one attempt) when it is one. */
export async function takeCrossing(agencyId: string, balance: number, at: Date): Promise<CrossingOutcome> {
  for (let round = 0; round < ROUNDS; round++) {
    const state = await getAutoTopUp(agencyId);
    if (!state || !topUpReady(state)) return 'off';
    if (balance >= state.threshold) return 'not_below';
    if (!state.armed || state.openPurchaseId) return 'not_armed';
    const day = utcDate(at);
    const dayCount = state.day === day ? (state.dayCount ?? 0) : 0;
    const isCapped = dayCount >= topUpDailyCap();
    const result: CommittedOrStale<'state' | 'purchase' | 'outbox'> = isCapped
      ? await capped(state, day, at)
      : await take(state, day, dayCount, at, balance);
    switch (result.kind) {
      case 'committed':
        return isCapped ? 'capped' : 'taken';
      case 'stale':
        // Another container took it (or the settings changed): read them again and judge again.
        if (result.failed.state) continue;
        return throwing(result);
      default:
        return unhandled(result);
    }
  }
  return 'not_armed';
}

/** The crossing taken: disarmed, with its attempt's purchase open, in one transaction. */
async function take(
  state: AutoTopUpItem & { credits: number },
  day: string,
  dayCount: number,
  at: Date,
  balance: number,
): Promise<CommittedOrStale<'state' | 'purchase'>> {
  const crossing = state.crossings + 1;
  const purchase = topUpPurchase(state, crossing, at);
  const next: AutoTopUpItem = {
    ...state,
    armed: false,
    crossings: crossing,
    openPurchaseId: purchase.id,
    day,
    dayCount: dayCount + 1,
    updatedAt: at.toISOString(),
  };
  const result = await committedOrStale<'state' | 'purchase'>([
    { name: 'state', write: putAutoTopUp(next, state.version) },
    { name: 'purchase', write: putTopUpPurchase(purchase) },
  ]);
  if (result.kind === 'committed') {
    count('AutoTopUpCrossings');
    logger.info('auto top-up: crossing taken', { agencyId: state.agencyId, purchaseId: purchase.id, crossing, balance });
  }
  return result;
}

/** Past the day's cap: disarmed without an attempt, and the agency told once that day. */
async function capped(state: AutoTopUpItem, day: string, at: Date): Promise<CommittedOrStale<'state' | 'outbox'>> {
  const tell = state.capNotifiedDay !== day;
  const next: AutoTopUpItem = { ...state, armed: false, capNotifiedDay: day, updatedAt: at.toISOString() };
  const result = await committedOrStale<'state' | 'outbox'>([
    { name: 'state', write: putAutoTopUp(next, state.version) },
    ...(tell ? await notice(state, 'daily_cap', { cap: topUpDailyCap() }, at) : []),
  ]);
  if (result.kind === 'committed') logger.warn('auto top-up: daily cap reached', { agencyId: state.agencyId, day });
  return result;
}

function topUpPurchase(state: AutoTopUpItem & { credits: number }, crossing: number, at: Date): PurchaseItem {
  const line = priceLine({ credits: state.credits }, platformTerms());
  const ms = at.getTime();
  return {
    kind: itemKinds.purchase,
    id: newId('purchase', ms),
    agencyId: state.agencyId,
    accountId: state.agencyId,
    balance: 'pool',
    stripeAccountId: null,
    status: 'pending',
    ...line,
    trigger: 'auto_top_up',
    crossing,
    actor: { type: 'platform' },
    idempotencyKey: `auto_top_up:${crossing}`,
    requestHash: requestHash('auto_top_up', state.agencyId, { crossing }),
    // A Checkout Session for it (the bank asks for authentication) expires then: fixed now, so a retry asks Stripe the same.
    expiresAt: Math.floor(ms / 1000) + resellingConfig().checkoutExpiryMinutes * 60,
    createdAt: at.toISOString(),
    updatedAt: at.toISOString(),
  };
}

/**
 * Charges the saved card for the attempt in flight, if there is one. Stripe unreachable or
 * failing: throws (the detector's batch is retried, and asks again under the same key).
 */
export async function sendAttempt(agencyId: string): Promise<void> {
  const state = await getAutoTopUp(agencyId);
  if (!state?.openPurchaseId) return;
  const p = await getPurchase(state.openPurchaseId);
  if (!p) throw new Error(`auto top-up ${state.openPurchaseId}: the purchase is missing`);
  if (p.status !== 'pending' || !state.stripeCustomerId || !state.paymentMethod) {
    await closeAttempt(p);
    return;
  }
  const s = await stripe();
  let intent: Stripe.PaymentIntent;
  try {
    const answer = await s.createPaymentIntent(
      {
        amount: p.amount,
        currency: p.currency,
        customer: state.stripeCustomerId,
        payment_method: state.paymentMethod.id,
        off_session: true,
        confirm: true,
        description: `${p.credits.toLocaleString('en-US')} credits (auto top-up)`,
        metadata: { purchaseId: p.id, agencyId, crossing: String(p.crossing ?? 0) },
      },
      requestOptions({ idempotencyKey: stripeKey(agencyId, 'auto_top_up', String(p.crossing ?? 0)) }),
    );
    intent = answer.object;
  } catch (err) {
    if (!(err instanceof StripeRequestError)) throw err;
    if (err.paymentIntent) intent = err.paymentIntent;
    else if (isTransient(err)) throw err;
    else {
      // Refused outright (the card was detached meanwhile, a parameter refused): a failure, with no PaymentIntent.
      logger.error('auto top-up: Stripe refused the PaymentIntent', {
        agencyId,
        purchaseId: p.id,
        code: err.code,
        status: err.status,
      });
      await recordFailure(p, undefined, 'failed', refusalInWords(err.code, err.message), clockNow());
      return;
    }
  }
  await recordTopUpIntent(p.id, intent.id, clockNow().toISOString());
  await settleTopUp({ ...p, paymentIntentId: intent.id }, intent);
}

const isTransient = (err: StripeRequestError) =>
  err.status === 0 || err.status === 409 || err.status === 429 || err.status >= 500 || err.type === 'api_error';

export type SettleOutcome = 'paid' | 'already' | 'failed' | 'pending' | 'not_ours';

/**
 * Applies what Stripe says of the purchase's own PaymentIntent (`intent`: Stripe's answer to
 * our call, or read from Stripe by the id recorded on the purchase). Exactly once, whichever of
 * the detector and the webhook gets here first.
 */
export async function settleTopUp(p: PurchaseItem, intent: Stripe.PaymentIntent): Promise<SettleOutcome> {
  const state = await getAutoTopUp(p.agencyId);
  const customer = typeof intent.customer === 'string' ? intent.customer : intent.customer?.id;
  if (
    p.trigger !== 'auto_top_up' ||
    intent.id !== p.paymentIntentId ||
    intent.amount !== p.amount ||
    intent.currency !== p.currency ||
    !customer ||
    customer !== state?.stripeCustomerId
  ) {
    logger.error('auto top-up: a PaymentIntent that is not the purchase’s own', {
      purchaseId: p.id,
      paymentIntentId: intent.id,
      recorded: p.paymentIntentId ?? null,
    });
    return 'not_ours';
  }
  if (p.status !== 'pending') return p.status === 'failed' ? 'failed' : 'already';
  const now = clockNow();
  if (intent.status === 'succeeded') return land(p, intent);
  if (intent.status === 'processing' || intent.status === 'requires_confirmation') return 'pending';
  const error = intent.last_payment_error;
  const needsAuth = intent.status === 'requires_action' || error?.code === 'authentication_required';
  const reason = refusalInWords(error?.decline_code ?? error?.code, error?.message);
  await recordFailure(p, intent.id, needsAuth ? 'requires_action' : 'failed', reason, now);
  return 'failed';
}

async function land(p: PurchaseItem, intent: Stripe.PaymentIntent): Promise<SettleOutcome> {
  const chargeId = typeof intent.latest_charge === 'string' ? intent.latest_charge : intent.latest_charge?.id;
  const makePlan = async (): Promise<Plan<'purchase' | 'payment' | 'state'> | Stop<'already'>> => {
    const [state, payment] = await Promise.all([getAutoTopUp(p.agencyId), getStripePayment(null, intent.id)]);
    if (payment?.purchaseId) return { stop: 'already' };
    const at = clockNow().toISOString();
    return {
      balanceKey: poolKey(p.agencyId),
      delta: p.credits,
      entry: {
        kind: itemKinds.ledgerEntry,
        id: newId('transaction', clockNow().getTime()),
        agencyId: p.agencyId,
        createdAt: at,
        type: 'purchase',
        credits: p.credits,
        balanceKind: 'pool',
        accountId: p.agencyId,
        subAccountId: null,
        reference: 'auto top-up',
        actor: { type: 'platform' },
        // The same key as a Checkout landing of this purchase: it is credited once, whichever way it is paid.
        idempotencyKey: `purchase:${p.id}`,
        requestHash: requestHash('purchase', p.accountId, { purchaseId: p.id }),
        payment: paymentOf(p, p.amount, { paymentIntentId: intent.id, chargeId }),
      },
      extras: [
        { name: 'purchase', write: markTopUpPaid(p, intent.id, chargeId, at) },
        {
          name: 'payment',
          write: bindStripePayment(payment, { stripeAccountId: null, paymentIntentId: intent.id, purchaseId: p.id }, at),
        },
        ...(state
          ? [{ name: 'state' as const, write: putAutoTopUp(attempted(state, p, { status: 'succeeded', at }), state.version) }]
          : []),
      ],
    };
  };
  const result = await commit(makePlan, {
    oneAtATime: [poolKey(p.agencyId)],
    // The purchase left `pending`: settled already. The settings or the payment moved: plan again.
    onFailed: { purchase: 'return', state: 'retry', payment: 'retry' },
  });
  // Bound already, the purchase settled, or its entry there: the other way of landing it came first.
  if (result.kind !== 'committed') return 'already';
  count('AutoTopUpsPaid');
  logger.info('auto top-up: paid', { agencyId: p.agencyId, purchaseId: p.id, credits: p.credits });
  return 'paid';
}

/**
 * A top-up whose bank asked for authentication, paid later on its Checkout page (landing.ts):
 * the settings learn it in the landing's own transaction (conditioned on their version), when
 * it is still their last attempt.
 */
export async function paidOnCheckout(p: PurchaseItem, at: string): Promise<NamedItem<'state'>[]> {
  if (p.trigger !== 'auto_top_up') return [];
  const state = await getAutoTopUp(p.agencyId);
  if (state?.lastAttempt?.purchaseId !== p.id) return [];
  return [{ name: 'state', write: putAutoTopUp(attempted(state, p, { status: 'succeeded', at }), state.version) }];
}

/** The settings after an attempt of `p` ended: its in-flight mark cleared, the failure count moved. */
function attempted(state: AutoTopUpItem, p: PurchaseItem, last: Omit<TopUpAttempt, 'purchaseId'>): AutoTopUpItem {
  const failures = last.status === 'succeeded' ? 0 : state.failuresInARow + 1;
  const turnOff = failures >= MAX_FAILURES_IN_A_ROW && state.enabled;
  const next: AutoTopUpItem = {
    ...state,
    // A paid top-up serves its crossing: the next drop below the threshold is a new one (even
    // before the pool is seen above it, which a debit right after the credit may hide). A failed
    // one re-arms only once the pool is seen at or above the threshold, so a refused card is not
    // retried on every debit.
    ...(last.status === 'succeeded' && { armed: true }),
    failuresInARow: failures,
    lastAttempt: { ...last, purchaseId: p.id },
    updatedAt: last.at,
    ...(turnOff && { enabled: false, disabledReason: 'three_failures_in_a_row' }),
  };
  if (state.openPurchaseId === p.id) delete next.openPurchaseId;
  return next;
}

/**
 * The attempt failed: the purchase fails (with, when the bank asks for authentication, a
 * Checkout Session where the agency can still pay it), the settings count the failure (the
 * third in a row turns auto top-up off), and the agency is told, all in one transaction.
 */
async function recordFailure(
  p: PurchaseItem,
  intentId: string | undefined,
  status: 'failed' | 'requires_action',
  reason: string,
  now: Date,
): Promise<void> {
  const session = status === 'requires_action' && intentId ? await authenticationCheckout(p) : undefined;
  for (let round = 0; round < ROUNDS; round++) {
    const state = await getAutoTopUp(p.agencyId);
    const at = now.toISOString();
    const next = state && attempted(state, p, { status, at, reason });
    const writes: NamedItem<'purchase' | 'state' | 'outbox'>[] = [
      { name: 'purchase', write: markTopUpFailed(p, intentId, reason, at, session) },
      ...(state && next ? [{ name: 'state' as const, write: putAutoTopUp(next, state.version) }] : []),
    ];
    if (state && next) {
      writes.push(
        ...(await notice(state, status, { purchase: p, reason, payUrl: session?.url, failuresInARow: next.failuresInARow }, now)),
      );
      if (!next.enabled && state.enabled)
        writes.push(...(await notice(state, 'disabled', { purchase: p, reason, failuresInARow: next.failuresInARow }, now)));
    }
    const result = await committedOrStale(writes);
    switch (result.kind) {
      case 'committed':
        count('AutoTopUpsFailed');
        logger.warn('auto top-up: payment failed', { agencyId: p.agencyId, purchaseId: p.id, status, reason });
        return;
      case 'stale':
        if (result.failed.purchase) return; // recorded already (the event and the detector's answer raced)
        continue; // the settings moved: count the failure on them as they are now
      default:
        return unhandled(result);
    }
  }
  throw new Error(`auto top-up ${p.id}: its settings kept changing while its failure was recorded`);
}

/** A purchase whose attempt cannot be made (the card was removed meanwhile): closed without a charge. */
async function closeAttempt(p: PurchaseItem): Promise<void> {
  if (p.status === 'pending') {
    await recordFailure(p, undefined, 'failed', 'no card is saved any more', clockNow());
    return;
  }
  const state = await getAutoTopUp(p.agencyId);
  if (state?.openPurchaseId !== p.id) return;
  const next = { ...state, updatedAt: clockNow().toISOString() };
  delete next.openPurchaseId;
  const result = await committedOrStale([{ name: 'state', write: putAutoTopUp(next, state.version) }]);
  switch (result.kind) {
    case 'committed':
    case 'stale': // the settings moved: whoever moved them judges the attempt in flight
      return;
    default:
      return unhandled(result);
  }
}

/**
 * The Checkout page where the agency completes a payment its bank wants to authenticate: a
 * Checkout Session for the same purchase (its completion lands it, see landing.ts), for the
 * agency's Customer, under a key derived from the purchase (a retry gets the same session).
 */
async function authenticationCheckout(p: PurchaseItem): Promise<{ id: string; url: string }> {
  const state = await getAutoTopUp(p.agencyId);
  const { appUrl } = resellingConfig();
  const metadata = { purchaseId: p.id, accountId: p.accountId, agencyId: p.agencyId };
  const what = `${p.credits.toLocaleString('en-US')} credits (auto top-up)`;
  const back = `${appUrl}/credits/purchases/${p.id}`;
  const s = await stripe();
  const answer = await s.createCheckoutSession(
    {
      mode: 'payment',
      line_items: [{ price_data: { currency: p.currency, unit_amount: p.amount, product_data: { name: what } }, quantity: 1 }],
      ...(state?.stripeCustomerId ? { customer: state.stripeCustomerId } : {}),
      client_reference_id: p.id,
      metadata,
      payment_intent_data: { metadata, description: what },
      success_url: `${back}?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
      cancel_url: `${back}?checkout=canceled`,
      expires_at: p.expiresAt,
    },
    requestOptions({ idempotencyKey: stripeKey(p.id, 'auto_top_up_authentication') }),
  );
  if (!answer.object.url) throw new Error(`Checkout Session ${answer.object.id} came back without a url`);
  return { id: answer.object.id, url: answer.object.url };
}

async function notice(
  state: AutoTopUpItem,
  kind: TopUpNoticeEvent['notice'],
  facts: { purchase?: PurchaseItem; reason?: string; payUrl?: string; failuresInARow?: number; cap?: number },
  now: Date,
): Promise<NamedItem<'outbox'>[]> {
  const agency = await getAccount(state.agencyId);
  if (!agency?.email) return [];
  const p = facts.purchase;
  const event: TopUpNoticeEvent = {
    type: 'auto_top_up.notice',
    notice: kind,
    agencyId: state.agencyId,
    agencyName: agency.name,
    to: agency.email,
    ...(p && { purchaseId: p.id }),
    credits: p?.credits ?? state.credits ?? 0,
    amount: p?.amount ?? 0,
    currency: p?.currency ?? resellingConfig().platform.currency,
    ...(facts.reason && { reason: facts.reason }),
    ...(facts.payUrl && { payUrl: facts.payUrl }),
    failuresInARow: facts.failuresInARow ?? state.failuresInARow,
    ...(facts.cap !== undefined && { cap: facts.cap }),
  };
  return [outboxWrite(newOutboxId(), event, now)];
}
