import { type AccountItem, getAccount } from '#db/items/account';
import type { PurchaseItem } from '#db/items/purchase';
import type { NamedItem } from '#db/transact';
import { newOutboxId, outboxWrite, type PurchaseNoticeEvent } from '../outbox';

/**
 * The email that tells the agency what happened to a purchase, as an outbox item of the
 * transaction that makes it happen (so it goes out iff that committed). Nothing when the
 * agency has no address to write to.
 */
export async function purchaseNotice(
  p: PurchaseItem,
  notice: PurchaseNoticeEvent['notice'],
  figures: { credits: number; shortfall?: number; amount: number },
  now: Date,
  buyer?: AccountItem,
): Promise<NamedItem<'outbox'>[]> {
  const [agency, account] = await Promise.all([
    getAccount(p.agencyId),
    buyer ?? (p.accountId === p.agencyId ? undefined : getAccount(p.accountId)),
  ]);
  if (!agency?.email) return [];
  const event: PurchaseNoticeEvent = {
    type: 'purchase.notice',
    notice,
    agencyId: p.agencyId,
    agencyName: agency.name,
    to: agency.email,
    purchaseId: p.id,
    accountId: p.accountId,
    accountName: (account ?? agency).name,
    balance: p.balance,
    credits: figures.credits,
    shortfall: figures.shortfall ?? 0,
    amount: figures.amount,
    currency: p.currency,
  };
  return [outboxWrite(newOutboxId(), event, now)];
}
