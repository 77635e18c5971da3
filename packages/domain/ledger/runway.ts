import { nowMs, utcDate } from '#core/clock';
import { accountDays, agencyDays } from '#db/items/usage-rollup';

/**
 * How long a balance lasts at the current pace: the balance ÷ the average daily use over the
 * last 7 whole UTC days (today, still running, is left out), or over the last 30 when fewer than
 * 3 of those 7 days saw any use; null when the 30 days saw none. Read from the usage rollups
 * (one query of one partition), never from the ledger; they lag the ledger by a few seconds.
 */
export interface Runway {
  days: number;
  basis: '7d' | '30d';
  burnPerDay: number;
}

const DAY_MS = 24 * 3600 * 1000;
/** Days of a week with use below which the week is too little to judge by. */
const MIN_ACTIVE_DAYS = 3;

export function runwayOf(balance: number, daily: Map<string, number>, today = nowMs()): Runway | null {
  const window = (n: number) =>
    Array.from({ length: n }, (_, i) => daily.get(utcDate(today - (i + 1) * DAY_MS)) ?? 0).filter((c) => c > 0);
  const week = window(7);
  const [used, span, basis] = week.length >= MIN_ACTIVE_DAYS ? [week, 7, '7d' as const] : [window(30), 30, '30d' as const];
  const total = used.reduce((n, c) => n + c, 0);
  if (total <= 0) return null;
  const burnPerDay = total / span;
  return { days: Math.floor(balance / burnPerDay), basis, burnPerDay: Math.round(burnPerDay * 100) / 100 };
}

const range = (today: number) => [utcDate(today - 30 * DAY_MS), utcDate(today - DAY_MS)] as const;

/** The agency pool's runway: what its own days used, less what reselling wallets paid for. */
export async function poolRunway(agencyId: string, balance: number): Promise<Runway | null> {
  const today = nowMs();
  const days = await agencyDays(agencyId, ...range(today));
  return runwayOf(balance, new Map(days.map((d) => [d.date, d.total - (Number(d.wallet) || 0)])), today);
}

/** A reselling wallet's runway: what the sub-account's days drew from its wallet. */
export async function walletRunway(subAccountId: string, balance: number): Promise<Runway | null> {
  const today = nowMs();
  const days = await accountDays(subAccountId, ...range(today));
  return runwayOf(balance, new Map(days.map((d) => [d.date, Number(d.wallet) || 0])), today);
}
