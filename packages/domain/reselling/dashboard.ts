import { utcDate } from '#core/clock';
import { invalidField } from '#core/errors';
import { listResellingSubAccounts } from '#db/items/account';
import { balanceShape, walletKey } from '#db/items/balance';
import { type ResellingTotalsItem, resellingSeries, resellingTotalsKey } from '#db/items/reselling-counters';
import { getResellingSettings } from '#db/items/reselling-settings';
import { accountDays } from '#db/items/usage-rollup';
import { foundItem, getItems, itemId } from '#db/read';
import { itemKinds } from '#db/schema';
import { exactBalance } from '../ledger/balances';
import { DAY_MS, daysBetween } from '../ledger/time-range';
import { resellingConfig } from './config';
import type { DashboardQuery } from './schemas';

/**
 * The Sub-Account Credit Dashboard: per reselling sub-account, credits purchased (through
 * Stripe) and the money spent on them per currency, credits granted by the agency, consumed,
 * taken back by refunds, remaining, and a daily series. Exact and bounded: a page of sub-accounts
 * (≤ 50), one BatchGet of their wallets and totals, and per sub-account two queries over at
 * most 92 days (its purchase days on gsi1, and its usage rollup days, whose `wallet` is the
 * consumption: ≤ 1 small item a day each). The ledger is never scanned.
 */
const MAX_RANGE_DAYS = 92;
const DEFAULT_DAYS = 30;

function range(q: DashboardQuery) {
  const to = q.to ?? utcDate();
  const from = q.from ?? utcDate(Date.parse(`${to}T00:00:00Z`) - (DEFAULT_DAYS - 1) * DAY_MS);
  if (from > to) throw invalidField('from', 'must not be after to');
  if (Date.parse(to) - Date.parse(from) >= MAX_RANGE_DAYS * DAY_MS)
    throw invalidField('from', `the range may span at most ${MAX_RANGE_DAYS} days`);
  return { from, to };
}

export async function resellingDashboard(agencyId: string, q: DashboardQuery) {
  const { from, to } = range(q);
  const [page, settings] = await Promise.all([
    listResellingSubAccounts(agencyId, { limit: q.limit, cursor: q.cursor }),
    getResellingSettings(agencyId),
  ]);
  const currency = settings?.pricing?.currency ?? resellingConfig().currencies[0] ?? 'usd';
  const keys = page.items.flatMap((s) => [walletKey(s.id), resellingTotalsKey(s.id)]);
  const [stored, series] = await Promise.all([
    keys.length ? getItems(keys) : Promise.resolve(new Map<string, Record<string, unknown>>()),
    // Every sub-account's two series at once, all sub-accounts in parallel.
    Promise.all(
      page.items.map(async (s) => (await Promise.all([resellingSeries(s.id, from, to), accountDays(s.id, from, to)])).flat()),
    ),
  ]);
  const days = daysBetween(from, to);
  // A wallet with lanes open (a busy one, lanes.ts) is its item plus its lanes.
  const busy = await Promise.all(
    page.items.map(async (sub) => {
      const item = foundItem(stored, walletKey(sub.id), balanceShape);
      return item?.lanesOpen ? { ...item, ...(await exactBalance(walletKey(sub.id))) } : item;
    }),
  );
  const items = page.items.map((sub, i) => {
    const wallet = busy[i];
    const totals = (stored.get(itemId(resellingTotalsKey(sub.id))) ?? {}) as Partial<ResellingTotalsItem>;
    const purchasedCredits = totals.purchasedCredits ?? 0;
    const spend = Object.entries(totals)
      .filter(([k, v]) => k.startsWith('spend_') && typeof v === 'number')
      .map(([k, v]) => ({ currency: k.slice('spend_'.length), amount: v as number }))
      .sort((a, b) => a.currency.localeCompare(b.currency));
    const byDate = new Map<string, { purchased: number; consumed: number; refunded: number }>();
    for (const d of series[i] ?? []) {
      const day = byDate.get(d.date) ?? { purchased: 0, consumed: 0, refunded: 0 };
      if (d.kind === itemKinds.resellingDay) {
        day.purchased += Number(d.purchased ?? 0);
        day.refunded += Number(d.refunded ?? 0);
      } else day.consumed += Number(d.wallet ?? 0);
      byDate.set(d.date, day);
    }
    return {
      subAccountId: sub.id,
      name: sub.name,
      purchasedCredits,
      // Credits that entered the wallet otherwise: the agency's grants.
      grantedCredits: Math.max(0, (wallet?.purchased ?? 0) - purchasedCredits),
      refundedCredits: wallet?.refunded ?? 0,
      consumedCredits: wallet?.consumed ?? 0,
      remaining: wallet?.balance ?? 0,
      totalSpend: spend.find((s) => s.currency === currency)?.amount ?? 0,
      spend,
      purchases: totals.purchases ?? 0,
      series: days.map((date) => ({ date, purchased: 0, consumed: 0, refunded: 0, ...byDate.get(date) })),
    };
  });
  return { currency, from, to, items, nextCursor: page.nextCursor };
}
