import { notFound } from '../../core/errors';
import { type AccountItem, getItem } from '../../db/accounts';
import { keys } from '../../db/schema';
import type { BalanceState } from './balance-state';

/** Reads of balances: the agency pool, a reselling wallet, a sub-account's month. */

interface BalanceItem extends BalanceState {
  purchased?: number;
  consumed?: number;
}

export async function poolBalance(agencyId: string) {
  const pool = await getItem<BalanceItem>(keys.pool(agencyId));
  return { balance: pool?.balance ?? 0, currency: 'credits' as const };
}

/** A reselling sub-account's wallet; in manual mode there is no wallet to show (404). */
export async function walletView(account: AccountItem) {
  if (account.type !== 'sub_account' || (account.creditMode ?? 'manual') !== 'reselling') throw notFound('Wallet');
  const wallet = await getItem<BalanceItem>(keys.wallet(account.id));
  return {
    balance: wallet?.balance ?? 0,
    purchased: wallet?.purchased ?? 0,
    consumed: wallet?.consumed ?? 0,
    currency: 'credits' as const,
  };
}

/** The month's usage on a sub-account list item, from its meter. */
export function creditsUsedThisMonth(account: AccountItem, now = new Date()): number {
  return account.meterMonth === now.toISOString().slice(0, 7) ? (account.meterUsed ?? 0) : 0;
}
