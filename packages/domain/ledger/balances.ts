import { notFound } from '../../core/errors';
import type { AccountItem } from '../../db/items/account';
import { getBalance, poolKey, walletKey } from '../../db/items/balance';

/** Reads of balances: the agency pool and a reselling wallet. */

export async function poolBalance(agencyId: string) {
  const pool = await getBalance(poolKey(agencyId));
  return { balance: pool?.balance ?? 0, currency: 'credits' as const };
}

/** A reselling sub-account's wallet; in manual mode there is no wallet to show (404). */
export async function walletView(account: AccountItem) {
  if (account.type !== 'sub_account' || (account.creditMode ?? 'manual') !== 'reselling') throw notFound('Wallet');
  const wallet = await getBalance(walletKey(account.id));
  return {
    balance: wallet?.balance ?? 0,
    purchased: wallet?.purchased ?? 0,
    consumed: wallet?.consumed ?? 0,
    /** Taken back by Stripe refunds: balance = purchased − consumed − refunded. */
    refunded: wallet?.refunded ?? 0,
    currency: 'credits' as const,
  };
}
