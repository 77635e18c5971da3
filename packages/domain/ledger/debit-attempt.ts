import { AppError } from '#core/errors';
import { newId } from '#core/ids';
import type { AccountItem } from '#db/items/account';
import { poolKey, walletKey } from '#db/items/balance';
import { debitLane } from '#db/items/lane';
import { type IdempotencyScope, type LedgerEntryItem, putEntry } from '#db/items/ledger-entry';
import { chargeMeter, type MeterItem, monthRoom } from '#db/items/meter';
import { itemId } from '#db/read';
import { itemKinds, type Key } from '#db/schema';
import type { CancelReason, Failed, NamedItem } from '#db/transact';
import { accountClosed } from '../accounts/errors';
import { type AccountHint, rememberAccount, rememberMeter } from './account-hints';
import { forgetBalance } from './balance-state';
import { replayOf } from './commit';
import { containerId, HOT_MS, LEASE_MS, type ScopeState } from './lanes';

/**
 * What every attempt of a usage debit is made of, whichever way it goes (debit.ts chooses:
 * the balance item itself, debit-direct.ts; or this container's lane, debit-lanes.ts, got by
 * debit-claim.ts): what it draws on, its entry and the items it writes, and how a failed
 * attempt is read.
 */

/** A usage debit as the routes ask for it. */
export interface DebitRequest {
  accountId: string;
  credits: number;
  /** The entry without what the debit decides (its balance side, id and time). */
  entry: Omit<LedgerEntryItem, 'id' | 'createdAt' | 'balanceAfter' | 'balanceKind' | 'agencyId' | 'subAccountId' | 'kind'>;
  clockNow: () => Date;
  month: () => string;
}

/** What a debit draws on: the pool (`P`), a wallet (`W`), or the pool within a sub-account's monthly limit (`L`). */
export interface Scope {
  id: string;
  head: Key;
  code: string;
  limited: boolean;
}

export function scopeOf(accountId: string, hint: AccountHint): Scope {
  const wallet = hint.type === 'sub_account' && hint.creditMode === 'reselling';
  const limited = hint.type === 'sub_account' && !wallet && hint.hasLimit;
  const head = wallet ? walletKey(accountId) : poolKey(hint.agencyId);
  const code = wallet ? 'W' : limited ? `L${accountId}` : 'P';
  return { id: `${itemId(head)}|${code}`, head, code, limited };
}

export type Outcome =
  | { kind: 'done'; entry: LedgerEntryItem; replayed: boolean }
  | { kind: 'refused'; error: AppError }
  /** `conflicted`: the balance item was in another transaction's hands; wait a little before trying again. */
  | { kind: 'again'; conflicted?: true }
  | { kind: 'collect'; head: Key; scopes?: (scope: string) => boolean; refuseIfNone?: AppError };

export function entryOf(d: DebitRequest, hint: AccountHint, scope: Scope): LedgerEntryItem {
  const now = d.clockNow();
  return {
    ...d.entry,
    kind: itemKinds.ledgerEntry,
    id: newId('transaction', now.getTime()),
    agencyId: hint.agencyId,
    createdAt: now.toISOString(),
    balanceKind: scope.code === 'W' ? 'wallet' : 'pool',
    subAccountId: hint.type === 'sub_account' ? d.accountId : null,
    balanceAfter: null,
  };
}

export const idempotencyScopeOf = (e: LedgerEntryItem): IdempotencyScope => ({
  agencyId: e.agencyId,
  operation: 'usage',
  accountId: e.accountId,
  idempotencyKey: e.idempotencyKey,
});

export const entryWrite = (entry: LedgerEntryItem): NamedItem<'entry'> => ({
  name: 'entry',
  write: putEntry(idempotencyScopeOf(entry), entry),
});

export const leaseUntil = () => Date.now() + LEASE_MS;

/**
 * A limited sub-account's meter charged (its account checked, not written: meter.ts): a debit's
 * own credits, or (`forLane`) the allowance a lane sets aside.
 */
export const meterWrites = (d: DebitRequest, hint: AccountHint, month: string, credits: number, forLane?: { nowMs: number }) =>
  chargeMeter({ accountId: d.accountId, seenMonth: hint.meterMonth, month, credits, forLane });

/** This container's debit of its own lane, no refill: `credits` (and as much of a limited lane's allowance) taken. */
export const ownLaneDebit = (scope: Scope, slot: number, credits: number, month: string): NamedItem<'lane'> => ({
  name: 'lane',
  write: debitLane({
    head: scope.head,
    slot,
    scope: scope.code,
    owner: containerId,
    credits,
    gain: 0,
    allowance: scope.limited ? { month, take: credits, gain: 0 } : undefined,
    leaseUntil: leaseUntil(),
  }),
});

/**
 * A limited sub-account that is not busy itself, while the pool is: it debits this container's
 * pool lane and charges its own meter by the debit's credits, in the same transaction. Lanes of
 * its own (with allowance) would cost a claim and a release on the pool item for every few
 * debits of a sub-account that debits now and then, and every container would hold one for
 * every such sub-account (the hot bench's mixed agency: 0.32 failed write calls per debit, most
 * of them these claims). Its meter (an item of its own, on no index: meter.ts) is charged
 * exactly debit by debit; when it meets another transaction there (the sub-account itself is
 * busy) the sub-account takes lanes of its own.
 */
export interface MeterRider {
  /** The limited sub-account's own scope and state. */
  scope: Scope;
  state: ScopeState;
  writes: ReturnType<typeof meterWrites>;
}

export const poolScopeOf = (limited: Scope): Scope => ({
  id: `${itemId(limited.head)}|P`,
  head: limited.head,
  code: 'P',
  limited: false,
});

/** A conflict met on the limited sub-account's meter: the sub-account itself is busy (lanes of its own next). */
export function meterConflicted(reasons: CancelReason[], rider: Pick<MeterRider, 'state'> | undefined): void {
  if (rider && reasons.some((r) => (r.name === 'meter' || r.name === 'standing') && r.code === 'TransactionConflict'))
    rider.state.meterHotUntil = Date.now() + HOT_MS;
}

/** The rider's meter refused its debit: the month too spent (after its allowances come back), or facts changed. */
export function meterRefused(d: DebitRequest, rider: MeterRider, item: unknown, month: string): Outcome {
  const limited = limitRefusal(item, month, d.credits);
  if (limited?.kind !== 'refused') return { kind: 'again' };
  return { kind: 'collect', head: rider.scope.head, scopes: (s) => s === rider.scope.code, refuseIfNone: limited.error };
}

/**
 * Another transaction held the balance item: it has likely moved it (a version, a lane opened,
 * new slots) by the time this debit tries again, so the next try reads it first. Tried again on
 * what it knew, a claim picks a slot from a stale count and fails once more on its condition:
 * measured in the hot bench, half of all claims went out on a view that old.
 */
export function conflictedOn(scope: Scope): Outcome {
  forgetBalance(scope.head);
  return { kind: 'again', conflicted: true };
}

/**
 * The shared part of reading a failed attempt: the key's first outcome, or the account's
 * standing (closed; or its mode or limit changed, so the next round draws on what it is now).
 */
export function judgeCommon(failed: Failed<string>, entry: LedgerEntryItem): Outcome | undefined {
  const existing = failed.entry;
  if (existing) return { kind: 'done', entry: replayOf(existing.old, entry), replayed: true };
  const standing = failed.standing;
  if (standing) {
    const account = standing.old as AccountItem | undefined;
    if (!account) return { kind: 'refused', error: new AppError('not_found', 'Account not found') };
    rememberAccount(account);
    if (account.status !== 'active') return { kind: 'refused', error: accountClosed() };
    return { kind: 'again' };
  }
  if (failed.meter) rememberMeter(entry.accountId, failed.meter.old as MeterItem | undefined);
  return undefined;
}

/** A limited sub-account's meter refused: the limit is reached only when its month truly has too little left. */
export function limitRefusal(item: unknown, month: string, credits: number): Outcome | undefined {
  const meter = item as Partial<MeterItem> | undefined;
  if (typeof meter?.monthlyCreditLimit !== 'number') return undefined;
  if (monthRoom(meter, month) >= credits) return undefined;
  return {
    kind: 'refused',
    error: new AppError(
      'credit_limit_reached',
      `This charge would exceed the sub-account's monthly limit of ${meter.monthlyCreditLimit} credits`,
    ),
  };
}
