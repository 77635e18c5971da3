import { now as clockNow, nowIso, utcDate } from '#core/clock';
import { AppError } from '#core/errors';
import { newId } from '#core/ids';
import { logger } from '#core/logger';
import { checkActiveInMode, checkClosed, getAccount } from '#db/items/account';
import {
  type LandingFacts,
  markPaid,
  markRefundedOnLanding,
  type PurchaseItem,
  recordClosedAccountRefund,
} from '#db/items/purchase';
import { bindStripePayment, getStripePayment, type StripePaymentItem } from '#db/items/stripe-payment';
import { itemKinds } from '#db/schema';
import { attempt, throwing } from '#db/transact';
import { paidOnCheckout } from '../auto-top-up/attempt';
import { type CommitResult, commit, type Plan, type Stop } from '../ledger/commit';
import { requestHash } from '../ledger/entries';
import { balanceOf, countersOf, paymentOf } from './purchase-ledger';
import { purchaseNotice } from './purchase-notices';
import { settlePayment } from './settlement';
import { StripeRequestError } from './stripe-api';
import { requestOptions, stripeCall, stripeKey } from './stripe-client';

/**
 * A payment lands: the purchase's own Checkout Session says it is paid (webhooks.ts checked
 * that). In ONE transaction: the purchase moves to `paid`, its credits land (the balance and a
 * `purchase` entry keyed by the purchase, so no second "paid" can ever credit twice), the
 * payment is bound to the purchase (from then on its refunds and disputes are believed), the
 * sub-account is checked to be still open, and the dashboard's counters move.
 *
 * Credits nobody could spend are not sold: a payment that lands after its sub-account closed is
 * refunded at Stripe instead (recorded on the purchase, the agency told); one that lands after a
 * switch to manual mode goes into the wallet, frozen until the sub-account is back in reselling
 * mode, and the agency is told. A refund or dispute that arrived before the payment (parked on
 * the payment) is settled right after.
 */
export type LandingOutcome = 'credited' | 'already' | 'refunded_account_closed' | 'not_this_purchase';

type Extra = 'purchase' | 'payment' | 'account' | 'outbox' | 'totals' | 'day' | 'state';

/** The purchase had left the states a payment lands from: `already` paid, or not payable by this session. */
type Settled = 'already' | 'not_this_purchase';

const MAX_ROUNDS = 5;

export async function landPayment(p: PurchaseItem, facts: LandingFacts): Promise<LandingOutcome> {
  if (p.closedAccountRefund) {
    await refundAtStripe(p, facts.paymentIntentId);
    return 'already';
  }
  if (p.status === 'paid' || p.status === 'refunded' || p.status === 'disputed') return alreadyLanded(p);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const result = await credit(p, facts);
    switch (result.kind) {
      case 'committed':
        if (result.memo?.parked) await settlePayment(p.id);
        return 'credited';
      case 'replayed':
        return alreadyLanded(p);
      case 'stopped':
        // The sub-account turned out closed: refund instead.
        if (result.reason === 'account_closed') return refundForClosedAccount(p, facts);
        return result.reason === 'already' ? alreadyLanded(p) : result.reason;
      case 'failed': {
        const purchase = result.failed.purchase;
        if (purchase) {
          const settled = settledBy(purchase.old as unknown as PurchaseItem | undefined);
          return settled === 'already' ? alreadyLanded(p) : settled;
        }
        // The transaction's reading of the world went stale (the account or the payment changed): read again.
      }
    }
  }
  throw new Error(`purchase ${p.id}: the account or payment kept changing while the payment landed`);
}

/**
 * The payment's binding as read now. Bound to this purchase: it landed already (the binding is
 * written with the credits); bound to another: not this purchase's to land.
 */
async function paymentBinding(
  p: PurchaseItem,
  paymentIntentId: string | undefined,
): Promise<{ unbound: StripePaymentItem | undefined } | { settled: Settled }> {
  if (!paymentIntentId) return { unbound: undefined };
  const seen = await getStripePayment(p.stripeAccountId, paymentIntentId);
  if (seen?.purchaseId === p.id) return { settled: 'already' };
  if (seen?.purchaseId) {
    logger.error('a payment already bound to another purchase was reported paying this one', {
      purchaseId: p.id,
      boundTo: seen.purchaseId,
      paymentIntentId,
    });
    return { settled: 'not_this_purchase' };
  }
  return { unbound: seen };
}

/** What a purchase that failed the landing's condition had become: landed (or refunded for a closed account), or not payable by this session. */
function settledBy(old: PurchaseItem | undefined): Settled {
  const landed = old?.status === 'paid' || old?.status === 'refunded' || old?.status === 'disputed';
  return landed || old?.closedAccountRefund ? 'already' : 'not_this_purchase';
}

/**
 * Credits the purchase. `replayed`: its entry existed (another delivery credited it first);
 * `parked` (committed): a refund or dispute was parked on the payment (to settle next);
 * `failed`: the purchase, the payment, the account or the settings moved meanwhile.
 */
function credit(
  p: PurchaseItem,
  facts: LandingFacts,
): Promise<CommitResult<Extra, { parked: boolean }, Settled | 'account_closed'>> {
  const makePlan = async (): Promise<Plan<Extra, { parked: boolean }> | Stop<Settled | 'account_closed'>> => {
    const [account, binding] = await Promise.all([
      p.balance === 'wallet' ? getAccount(p.accountId) : undefined,
      paymentBinding(p, facts.paymentIntentId),
    ]);
    if ('settled' in binding) return { stop: binding.settled };
    const payment = binding.unbound;
    if (account?.status === 'closed') return { stop: 'account_closed' };
    const now = clockNow();
    const at = now.toISOString();
    const mode = account?.type === 'sub_account' ? (account.creditMode ?? 'manual') : 'manual';
    const frozen = p.balance === 'wallet' && mode !== 'reselling';
    return {
      balanceKey: balanceOf(p),
      delta: p.credits,
      entry: {
        kind: itemKinds.ledgerEntry,
        id: newId('transaction', now.getTime()),
        agencyId: p.agencyId,
        createdAt: at,
        type: 'purchase',
        credits: p.credits,
        balanceKind: p.balance,
        accountId: p.accountId,
        subAccountId: p.balance === 'wallet' ? p.accountId : null,
        reference: p.packageName,
        actor: p.actor,
        idempotencyKey: `purchase:${p.id}`,
        requestHash: requestHash('purchase', p.accountId, { purchaseId: p.id }),
        payment: paymentOf(p, p.amount, facts),
      },
      extras: [
        { name: 'purchase', write: markPaid(p, facts, at) },
        ...(facts.paymentIntentId
          ? [{ name: 'payment' as const, write: bindStripePayment(payment, bindingOf(p, facts.paymentIntentId), at) }]
          : []),
        ...(account ? [{ name: 'account' as const, write: checkActiveInMode(account.id, mode) }] : []),
        ...(frozen
          ? await purchaseNotice(p, 'landed_in_manual_mode', { credits: p.credits, amount: p.amount }, now, account)
          : []),
        ...countersOf(p, 'purchase', p.credits, p.amount, utcDate(now)),
        // An auto top-up paid here after its bank asked for authentication: its settings' last attempt.
        ...(await paidOnCheckout(p, at)),
      ],
      memo: { parked: Boolean(payment?.parkedAt) },
    };
  };
  return commit(makePlan, {
    oneAtATime: [balanceOf(p)],
    onFailed: { purchase: 'return', payment: 'return', account: 'return', state: 'return' },
  });
}

const bindingOf = (p: PurchaseItem, paymentIntentId: string) => ({
  stripeAccountId: p.stripeAccountId,
  paymentIntentId,
  purchaseId: p.id,
});

/**
 * Landed before (a redelivery, or a race lost to another delivery). A refund parked while the
 * first landing crashed right after its commit is settled here, since nothing else would.
 */
async function alreadyLanded(p: PurchaseItem): Promise<'already'> {
  const paymentIntentId = p.paymentIntentId;
  if (paymentIntentId) {
    const binding = await getStripePayment(p.stripeAccountId, paymentIntentId);
    if (binding?.purchaseId === p.id && binding.parkedAt) await settlePayment(p.id);
  }
  return 'already';
}

/**
 * The payment landed on a closed sub-account: the purchase becomes `refunded` without credits
 * (and the payment bound to it, so the refund's own events find it), the agency is told, then
 * Stripe refunds the payment under a key derived from the purchase, so any redelivery asks once.
 * A sub-account reopened meanwhile fails the check, and the payment lands as credits instead.
 */
async function refundForClosedAccount(p: PurchaseItem, facts: LandingFacts): Promise<LandingOutcome> {
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const binding = await paymentBinding(p, facts.paymentIntentId);
    if ('settled' in binding) return binding.settled;
    const now = clockNow();
    const at = now.toISOString();
    const result = await attempt<'purchase' | 'payment' | 'closed' | 'outbox'>([
      { name: 'purchase', write: markRefundedOnLanding(p, facts, at) },
      ...(facts.paymentIntentId
        ? [{ name: 'payment' as const, write: bindStripePayment(binding.unbound, bindingOf(p, facts.paymentIntentId), at) }]
        : []),
      { name: 'closed', write: checkClosed(p.accountId) },
      ...(await purchaseNotice(p, 'refunded_account_closed', { credits: p.credits, amount: p.amount }, now)),
    ]);
    if (result.kind === 'refused' || result.kind === 'conflict') throwing(result);
    if (result.kind === 'stale') {
      if (result.failed.closed) return landPayment(p, facts); // reopened meanwhile: the credits land after all
      if (result.failed.payment) continue;
      const old = result.failed.purchase?.old as unknown as PurchaseItem | undefined;
      // A concurrent delivery recorded it first: make sure the refund is asked for all the same.
      if (!old?.closedAccountRefund) return old?.status === 'pending' ? 'not_this_purchase' : 'already';
    }
    logger.warn('a payment landed on a closed sub-account; refunding it', { purchaseId: p.id, accountId: p.accountId });
    await refundAtStripe(p, facts.paymentIntentId);
    return 'refunded_account_closed';
  }
  throw new Error(`purchase ${p.id}: the payment kept changing while it was refunded`);
}

/**
 * Asks Stripe to refund the whole payment (the platform's application fee too: nothing was
 * delivered), once: the idempotency key is the purchase's. Stripe unreachable → 503, so Stripe
 * sends the event again and this runs again. A refusal is logged for an operator (the purchase
 * shows the refund as asked for, without a refund id) and the event is not retried for it.
 */
async function refundAtStripe(p: PurchaseItem, paymentIntentId = p.paymentIntentId): Promise<void> {
  if (!paymentIntentId || p.closedAccountRefund?.refundId) return;
  try {
    const refund = await stripeCall('refund a payment for a closed sub-account', async (s) => {
      try {
        const answer = await s.createRefund(
          {
            payment_intent: paymentIntentId,
            reason: 'requested_by_customer',
            metadata: { purchaseId: p.id, reason: 'sub_account_closed' },
            ...(p.stripeAccountId ? { refund_application_fee: true } : {}),
          },
          requestOptions({ idempotencyKey: stripeKey(p.id, 'closed_account_refund'), stripeAccount: p.stripeAccountId }),
        );
        return answer.object;
      } catch (err) {
        // Refunded already (by the agency in its dashboard): nothing left to do.
        if (err instanceof StripeRequestError && err.code === 'charge_already_refunded') return undefined;
        throw err;
      }
    });
    if (refund) await recordClosedAccountRefund(p.id, refund.id, refund.amount, nowIso());
  } catch (err) {
    if (err instanceof AppError && err.code === 'try_again') throw err;
    logger.error('Stripe did not refund a payment that landed on a closed sub-account; refund it by hand', {
      purchaseId: p.id,
      paymentIntentId,
      error: (err as Error).message,
    });
  }
}
