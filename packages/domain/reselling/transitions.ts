import { now as clockNow, nowIso, utcDate } from '../../core/clock';
import { newId } from '../../core/ids';
import { poolKey, walletKey } from '../../db/items/balance';
import type { EntryPayment } from '../../db/items/ledger-entry';
import { closePurchase, markPaid, markRefunded, type PaymentFacts, type PurchaseItem } from '../../db/items/purchase';
import { countResellingMove } from '../../db/items/reselling-counters';
import { itemKinds } from '../../db/schema';
import type { NamedItem } from '../../db/transact';
import { balanceHint, oneAtATime } from '../ledger/balance-state';
import { commit, type Failure, type Plan } from '../ledger/commit';
import { requestHash } from '../ledger/entries';

/**
 * A purchase's transitions and their ledger side. Paid credits land in ONE transaction: the
 * purchase's conditional move to `paid`, the balance, the `purchase` entry (keyed by the
 * purchase, so a second "paid" can never credit twice even if two raced past the status
 * check) and the dashboard counters. A refund takes back the refunded share in one transaction
 * too, never below zero: what the balance cannot give back is recorded on the purchase.
 */
type Extra = 'purchase' | 'totals' | 'day';

/** The transition's condition no longer holds: another delivery of the same news got there first. */
class Superseded extends Error {}

const balanceOf = (p: PurchaseItem) => (p.balance === 'pool' ? poolKey(p.agencyId) : walletKey(p.accountId));

function payment(p: PurchaseItem, amount: number, facts: PaymentFacts): EntryPayment {
  return {
    purchaseId: p.id,
    amount,
    currency: p.currency,
    stripeAccountId: p.stripeAccountId,
    checkoutSessionId: facts.checkoutSessionId ?? p.checkoutSessionId ?? null,
    paymentIntentId: facts.paymentIntentId ?? p.paymentIntentId ?? null,
    chargeId: facts.chargeId ?? p.chargeId ?? null,
  };
}

function counters(
  p: PurchaseItem,
  kind: 'purchase' | 'refund',
  credits: number,
  amount: number,
  date: string,
): NamedItem<Extra>[] {
  if (p.balance !== 'wallet') return [];
  const { totals, day } = countResellingMove({
    agencyId: p.agencyId,
    subAccountId: p.accountId,
    date,
    currency: p.currency,
    credits,
    amount,
    kind,
  });
  return [
    { name: 'totals', write: totals },
    { name: 'day', write: day },
  ];
}

/** pending | failed | expired → paid, and the credits land. */
export async function creditPurchase(p: PurchaseItem, facts: PaymentFacts): Promise<'credited' | 'already' | 'other_session'> {
  const makePlan = async (): Promise<Plan<Extra>> => {
    const now = clockNow();
    const at = now.toISOString();
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
        payment: payment(p, p.amount, facts),
      },
      extras: [
        { name: 'purchase', write: markPaid(p, facts, at) },
        ...counters(p, 'purchase', p.credits, p.amount, utcDate(now)),
      ],
    };
  };
  let outcome: 'already' | 'other_session' = 'already';
  const judge = (failure: Failure<Extra>) => {
    const found = failure.failed('purchase');
    if (!found) return undefined;
    const old = found.item as unknown as PurchaseItem | undefined;
    if (old && old.status !== 'paid' && old.status !== 'refunded') outcome = 'other_session';
    throw new Superseded();
  };
  try {
    const { replayed } = await oneAtATime(balanceOf(p), () => commit(makePlan, judge));
    return replayed ? 'already' : 'credited';
  } catch (err) {
    if (err instanceof Superseded) return outcome;
    throw err;
  }
}

/** pending → failed | expired: no credits move; false when the purchase had left pending. */
export const closePurchaseAs = (p: PurchaseItem, to: 'failed' | 'expired', facts: PaymentFacts) =>
  closePurchase(p, to, facts, nowIso());

/** The credits Stripe's cumulative `amount_refunded` stands for: the refunded share, rounded down (a full refund is all of them). */
export const refundedShare = (p: Pick<PurchaseItem, 'credits' | 'amount'>, amountRefunded: number) =>
  Number((BigInt(p.credits) * BigInt(Math.min(amountRefunded, p.amount))) / BigInt(p.amount));

/**
 * paid | refunded → refunded for a larger cumulative refund: the new share of credits leaves
 * the balance, as much as it holds (never below zero), the rest is the purchase's shortfall.
 * `current` is the purchase as last read; a concurrent step refreshes it and the plan is redone.
 */
export async function refundPurchase(
  current: PurchaseItem,
  charge: { id: string; amountRefunded: number; paymentIntentId?: string },
): Promise<'refunded' | 'already'> {
  let p = current;
  const key = balanceOf(p);
  const makePlan = async (): Promise<Plan<Extra>> => {
    if ((p.amountRefunded ?? 0) >= charge.amountRefunded) throw new Superseded();
    const now = clockNow();
    const share = refundedShare(p, charge.amountRefunded) - (p.creditsRefunded ?? 0);
    const { balance } = await balanceHint(key);
    const taken = Math.max(0, Math.min(share, balance));
    const amount = charge.amountRefunded - (p.amountRefunded ?? 0);
    const facts = { chargeId: charge.id, paymentIntentId: charge.paymentIntentId };
    return {
      balanceKey: key,
      delta: -taken,
      total: 'refunded',
      entry: {
        kind: itemKinds.ledgerEntry,
        id: newId('transaction', now.getTime()),
        agencyId: p.agencyId,
        createdAt: now.toISOString(),
        type: 'refund',
        credits: -taken,
        balanceKind: p.balance,
        accountId: p.accountId,
        subAccountId: p.balance === 'wallet' ? p.accountId : null,
        reference: p.packageName,
        actor: { type: 'platform' },
        idempotencyKey: `refund:${p.id}:${charge.amountRefunded}`,
        requestHash: requestHash('refund', p.accountId, { purchaseId: p.id, amountRefunded: charge.amountRefunded }),
        payment: payment(p, amount, facts),
      },
      extras: [
        {
          name: 'purchase',
          write: markRefunded(
            p,
            {
              amountRefunded: charge.amountRefunded,
              creditsRefunded: refundedShare(p, charge.amountRefunded),
              shortfall: share - taken,
              chargeId: charge.id,
            },
            now.toISOString(),
          ),
        },
        ...counters(p, 'refund', taken, -amount, utcDate(now)),
      ],
    };
  };
  const judge = (failure: Failure<Extra>) => {
    const found = failure.failed('purchase');
    if (found) {
      // Another refund step (or the same one) moved the purchase: redo the plan from it.
      if (!found.item) throw new Superseded();
      p = found.item as unknown as PurchaseItem;
      return 'retry' as const;
    }
    // A stale balance: the hint was refreshed from the returned item, and the share is recomputed from it.
    return failure.failed('balance') ? ('retry' as const) : undefined;
  };
  try {
    const { replayed } = await oneAtATime(key, () => commit(makePlan, judge));
    return replayed ? 'already' : 'refunded';
  } catch (err) {
    if (err instanceof Superseded) return 'already';
    throw err;
  }
}
