import { poolKey, walletKey } from '#db/items/balance';
import type { EntryPayment } from '#db/items/ledger-entry';
import type { PaymentFacts, PurchaseItem } from '#db/items/purchase';
import { countResellingMove } from '#db/items/reselling-counters';
import type { NamedItem } from '#db/transact';

/** What every ledger move of a purchase shares: its balance, the money behind an entry, the dashboard's counters. */

export const balanceOf = (p: Pick<PurchaseItem, 'balance' | 'agencyId' | 'accountId'>) =>
  p.balance === 'pool' ? poolKey(p.agencyId) : walletKey(p.accountId);

/** The money an entry stands for (`amount` minor units of the purchase's currency) and Stripe's ids for it. */
export function paymentOf(p: PurchaseItem, amount: number, facts: PaymentFacts = {}): EntryPayment {
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

/**
 * The reselling dashboard's counters (wallet purchases only): credits bought, or credits taken
 * back (negative when they return), and the money in or back out.
 */
export function countersOf(
  p: PurchaseItem,
  kind: 'purchase' | 'refund',
  credits: number,
  amount: number,
  date: string,
): NamedItem<'totals' | 'day'>[] {
  if (p.balance !== 'wallet' || (credits === 0 && amount === 0)) return [];
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

/**
 * The credits a share of the payment stands for: `credits × part ÷ amount`, rounded down (so a
 * partial refund never takes back more than was paid for); the whole amount is all of them.
 */
export const creditsFor = (p: Pick<PurchaseItem, 'credits' | 'amount'>, part: number) =>
  Number((BigInt(p.credits) * BigInt(Math.max(0, Math.min(part, p.amount)))) / BigInt(p.amount));
