import { BoundedMap } from '#core/bounded-map';
import type { AccountItem, CreditMode } from '#db/items/account';
import { getAccountWithMeter, type MeterItem } from '#db/items/meter';

/**
 * This container's memory of accounts, for the debit path: which agency an account belongs
 * to never changes; its mode, limit and meter month may, so those are hints that the write's
 * conditions verify (and that a failed condition refreshes from the returned item).
 */
export interface AccountHint {
  type: AccountItem['type'];
  agencyId: string;
  status: AccountItem['status'];
  creditMode: CreditMode;
  hasLimit: boolean;
  /** From its meter item (meter.ts), read with the account when it has a limit. */
  meterMonth?: string;
  /** What the monthly limit had left when last seen (a hint for sizing a lane's allowance). */
  meterRemaining?: number;
  /**
   * The fence of the balance it draws on (by item id), as this container knew it before the
   * account was read: the hint speaks for the account under that fence only. A change of what an
   * account may draw on is written before the fence moves (standing.ts), so an account read after
   * the fence was seen at a value shows every change up to it; a fence learned later (a collect,
   * a refill, another account's failed debit) must not vouch for a hint read earlier.
   */
  under?: { head: string; fence: number };
  /** Epoch ms: its month's allowance was collected lately; debit one by one until then. */
  lanesOffUntil: number;
}

const MAX_HINTS = 10_000;
const hints = new BoundedMap<string, AccountHint>(MAX_HINTS);

/**
 * The account as read (a failed check's ALL_OLD, or a read). Its meter is another item: given
 * (or `null`, none), it replaces what was known of the meter; absent, what was known stays.
 */
export function rememberAccount(item: AccountItem, meter?: MeterItem | null): AccountHint {
  // An agency draws on its own pool: no credit mode, no limit, no meter.
  const sub = item.type === 'sub_account' ? item : undefined;
  const known = meter === undefined ? hints.get(item.id) : undefined;
  const hint: AccountHint = {
    type: item.type,
    agencyId: item.agencyId,
    status: item.status,
    creditMode: sub?.creditMode ?? 'manual',
    hasLimit: typeof sub?.monthlyCreditLimit === 'number',
    meterMonth: known ? known.meterMonth : (meter?.meterMonth ?? undefined),
    meterRemaining: known ? known.meterRemaining : (meter?.meterRemaining ?? undefined),
    lanesOffUntil: known ? known.lanesOffUntil : (meter?.lanesOffUntil ?? 0),
  };
  hints.set(item.id, hint);
  return hint;
}

/** The meter as a failed charge or a read found it: what this container knows of it now. */
export function rememberMeter(accountId: string, meter: MeterItem | undefined): void {
  const hint = hints.get(accountId);
  if (!hint) return;
  hint.meterMonth = meter?.meterMonth;
  hint.meterRemaining = meter?.meterRemaining;
  hint.lanesOffUntil = meter?.lanesOffUntil ?? 0;
}

/** Reads an account, and the meter of a sub-account with a limit. */
async function readAccount(accountId: string): Promise<AccountHint | undefined> {
  const found = await getAccountWithMeter(accountId);
  return found ? rememberAccount(found.account, found.meter ?? null) : undefined;
}

export async function accountHint(accountId: string): Promise<AccountHint | undefined> {
  return hints.get(accountId) ?? readAccount(accountId);
}

/** After a debit committed, the meter is on that month: the next debit need not roll it over. */
export function noteMeterMonth(accountId: string, month: string): void {
  const hint = hints.get(accountId);
  if (hint) hint.meterMonth = month;
}

/** Reads the account again (a closed one may have been reopened; a change may have moved a fence). */
export async function refreshAccount(accountId: string): Promise<AccountHint | undefined> {
  const hint = await readAccount(accountId);
  if (!hint) hints.delete(accountId);
  return hint;
}

/** Whether the hint was read under this fence of this balance (see `under`). */
export const readUnder = (hint: AccountHint, head: string, fence: number): boolean =>
  hint.under?.head === head && hint.under.fence === fence;

/** Reads the account again, under the fence this container knows now for the balance it draws on. */
export async function refreshAccountUnder(accountId: string, head: string, fence: number): Promise<void> {
  const hint = await refreshAccount(accountId);
  if (hint) hint.under = { head, fence };
}

/** Forgets every account of an agency: a fence of its pool moved, so any of them may have changed. */
export function forgetAccountsOf(agencyId: string): void {
  for (const [id, hint] of hints) if (hint.agencyId === agencyId) hints.delete(id);
}
