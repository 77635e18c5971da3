import { notFound } from '#core/errors';
import type { AccountItem } from '#db/items/account';
import { type BalanceItem, getBalance, poolKey, walletKey } from '#db/items/balance';
import { getLanes } from '#db/items/lane';
import type { Key } from '#db/schema';
import { poolRunway, walletRunway } from './runway';

/** Reads of balances: the agency pool and a reselling wallet, lanes included (lanes.ts). */

export interface ExactBalance {
  balance: number;
  purchased: number;
  consumed: number;
  refunded: number;
}

const ROUNDS = 5;

/**
 * A balance as it is: its item plus every lane it set aside credits in. Lanes only move credits
 * to and from the item in transactions that move the item's version, so a read of the lanes
 * between two reads of the item at the same version counts every credit once (the lanes'
 * own debits only take credits away, each counted in `consumed` of the lane that took them).
 */
export async function exactBalance(key: Key): Promise<ExactBalance> {
  const { version: _version, ...exact } = await exactBalanceAt(key);
  return exact;
}

/** The exact balance and the item's version it was read at (the stream's judges compare records with it). */
export async function exactBalanceAt(key: Key): Promise<ExactBalance & { version: number }> {
  let last: (ExactBalance & { version: number }) | undefined;
  for (let round = 0; round < ROUNDS; round++) {
    const item = await getBalance(key);
    const own = { ...fromItem(item), version: item?.version ?? 0 };
    if (!item?.lanesOpen || !item.laneSlots) return own;
    const lanes = await getLanes(key, item.laneSlots);
    last = {
      ...own,
      balance: own.balance + lanes.reduce((n, l) => n + l.credits, 0),
      consumed: own.consumed + lanes.reduce((n, l) => n + (l.spent ?? 0), 0),
    };
    if ((await getBalance(key))?.version === item.version) return last;
  }
  // Lanes kept being claimed or refilled across every read: the last sum, off by at most what moved meanwhile.
  return last as ExactBalance & { version: number };
}

const fromItem = (item: BalanceItem | undefined): ExactBalance => ({
  balance: item?.balance ?? 0,
  purchased: item?.purchased ?? 0,
  consumed: item?.consumed ?? 0,
  refunded: item?.refunded ?? 0,
});

export async function poolBalance(agencyId: string) {
  const { balance } = await exactBalance(poolKey(agencyId));
  return { balance, currency: 'credits' as const, runway: await poolRunway(agencyId, balance) };
}

/** A reselling sub-account's wallet; in manual mode there is no wallet to show (404). */
export async function walletView(account: AccountItem) {
  if (account.type !== 'sub_account' || (account.creditMode ?? 'manual') !== 'reselling') throw notFound('Wallet');
  const wallet = await exactBalance(walletKey(account.id));
  return {
    ...wallet,
    runway: await walletRunway(account.id, wallet.balance),
    /** Taken back by Stripe refunds: balance = purchased − consumed − refunded. */
    currency: 'credits' as const,
  };
}
