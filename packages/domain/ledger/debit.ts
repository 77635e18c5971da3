import { timeLeftMs } from '#core/deadline';
import { AppError } from '#core/errors';
import { newId } from '#core/ids';
import { logger } from '#core/logger';
import { count } from '#core/metrics';
import { type AccountItem, getAccount } from '#db/items/account';
import { fundLane, moveBalance, poolKey, SLOT_PAGE, slotCountAfter, walletKey } from '#db/items/balance';
import { claimLane, debitLane, getLanes, type LaneItem } from '#db/items/lane';
import { listLaneHead } from '#db/items/lane-head';
import { type IdempotencyScope, type LedgerEntryItem, putEntry } from '#db/items/ledger-entry';
import { chargeMeter, getMeter, type MeterItem, monthRoom } from '#db/items/meter';
import { itemId } from '#db/read';
import { itemKinds, type Key } from '#db/schema';
import { attempt, type CancelReason, type Failed, type NamedItem, throwing, unhandled } from '#db/transact';
import { accountClosed } from '../accounts/errors';
import {
  type AccountHint,
  accountHint,
  forgetAccountsOf,
  noteMeterMonth,
  readUnder,
  refreshAccount,
  refreshAccountUnder,
  rememberAccount,
  rememberMeter,
} from './account-hints';
import {
  type BalanceState,
  balanceHint,
  balanceKnown,
  forgetBalance,
  oneAtATime,
  rememberBalance,
  updateBalanceHint,
} from './balance-state';
import { insufficientCredits, refuse, replayOf } from './commit';
import {
  allowanceChunk,
  COLLECTED_MS,
  chunkFor,
  closeLanes,
  containerId,
  HOT_MS,
  LEASE_MS,
  MAX_SLOTS,
  MIN_DEBITS_PER_CHUNK,
  noteContention,
  noteUse,
  type ScopeState,
  scopeState,
} from './lanes';

/**
 * One usage debit, exactly once, on the balance it draws on: the balance item itself while the
 * balance is quiet, a lane of this container's while it is busy (lanes.ts explains both).
 * Every attempt is ONE TransactWriteItems: the balance item or the lane, the entry (keyed by
 * the idempotency key, so a retry finds the first answer), and for a sub-account with a monthly
 * limit its meter when the limit's allowance is taken. Nothing is charged on any error.
 */
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

type Outcome =
  | { kind: 'done'; entry: LedgerEntryItem; replayed: boolean }
  | { kind: 'refused'; error: AppError }
  /** `conflicted`: the balance item was in another transaction's hands; wait a little before trying again. */
  | { kind: 'again'; conflicted?: true }
  | { kind: 'collect'; head: Key; scopes?: (scope: string) => boolean; refuseIfNone?: AppError };

const MAX_ATTEMPTS = 60;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/**
 * After the n-th conflict on a balance item: a wait drawn from [0, 10·2ⁿ ms], at most 160 ms
 * ("full jitter"). Containers turning to lanes at once all claim on the balance item; retried
 * at once they meet again, and every meeting is a billed, cancelled transaction. Only the
 * switch to lanes pays this; a lane's own debits never conflict.
 */
function backOff(n: number): Promise<void> {
  return sleep(Math.random() * Math.min(160, 10 * 2 ** n));
}
const ANSWER_MARGIN_MS = 250;

export async function debit(d: DebitRequest): Promise<{ entry: LedgerEntryItem; replayed: boolean }> {
  let conflicts = 0;
  const trail: string[] = [];
  for (let attempt = 1; attempt <= MAX_ATTEMPTS && timeLeftMs() > ANSWER_MARGIN_MS; attempt++) {
    let hint = await accountHint(d.accountId);
    if (hint?.status !== 'active') hint = await refreshAccount(d.accountId);
    if (!hint) throw new AppError('not_found', 'Account not found');
    const scope = scopeOf(d.accountId, hint);
    const entry = entryOf(d, hint, scope);
    if (hint.status !== 'active') return refuse(idempotencyScopeOf(entry), entry, accountClosed());
    const state = scopeState(scope.id);
    // The scope whose rate this debit adds to: the pool's when a limited sub-account rides its lane.
    let drewOn = state;
    const firstTry = attempt === 1;
    const outcome = await oneAtATime(scope.head, async (): Promise<Outcome> => {
      const head = firstTry && state.readFirst && !state.lane ? await freshView(scope, state) : await balanceHint(scope.head);
      // What the account may draw on, as known here, holds only under a fence seen before it was read.
      if (!readUnder(hint, itemId(scope.head), head.fence)) {
        await refreshAccountUnder(d.accountId, itemId(scope.head), head.fence);
        return { kind: 'again' };
      }
      // A limited sub-account whose month is nearly spent takes its allowance debit by debit.
      const limitLanesOff = scope.limited && hint.lanesOffUntil > Date.now();
      trail.push(`${head.lanesOpen}${state.lane ? 'L' : ''}${limitLanesOff ? 'off' : ''}`);
      if (state.lane) return limitLanesOff ? releaseOwn(scope, state) : laneDebit(d, hint, scope, state, head, entry);
      const lanesWanted = head.lanesOpen > 0 || state.hotUntil > Date.now();
      if (lanesWanted && head.noLanesUntil <= Date.now()) {
        if (scope.limited && state.meterHotUntil <= Date.now()) {
          const pool = poolScopeOf(scope);
          drewOn = scopeState(pool.id);
          return ridePoolLane(d, hint, pool, drewOn, head, entry, {
            scope,
            state,
            writes: meterWrites(d, hint, d.month(), d.credits),
          });
        }
        if (!limitLanesOff) return claim(d, hint, scope, state, head, entry);
        // Near its limit a sub-account sets no allowance aside; while other lanes keep the
        // balance item from direct debits, it takes a lane holding just this debit's allowance
        // (given back before its next debit).
        if (head.lanesOpen > 0) return claim(d, hint, scope, state, head, entry, { exactAllowance: true });
      }
      return direct(d, hint, scope, state, head, entry);
    });
    trail.push(outcome.kind);
    switch (outcome.kind) {
      case 'done':
        if (!outcome.replayed) {
          noteUse(drewOn, d.credits);
          count('Debits');
          count('CreditsDebited', d.credits);
        }
        return { entry: outcome.entry, replayed: outcome.replayed };
      case 'refused':
        return refuse(idempotencyScopeOf(entry), entry, outcome.error);
      case 'collect': {
        // A balance collected for want of credits takes no lanes for a while; a limited
        // sub-account collected for want of allowance takes none of its own.
        const closed = await closeLanes(outcome.head, {
          scopes: outcome.scopes,
          noLanesUntil: outcome.scopes ? undefined : Date.now() + COLLECTED_MS,
          limitLanesOffUntil: outcome.scopes ? Date.now() + COLLECTED_MS : undefined,
        });
        forgetBalance(outcome.head);
        if (outcome.scopes) {
          const [account, meter] = await Promise.all([getAccount(d.accountId), getMeter(d.accountId)]);
          if (account) {
            // Even with no lane to collect, this container debits one by one now: the month's
            // room is less than a lane would set aside.
            const fresh = rememberAccount(account, meter ?? null);
            fresh.lanesOffUntil = Math.max(fresh.lanesOffUntil, Date.now() + COLLECTED_MS);
            // Nothing of the month is set aside any more (here, or by a close that got there
            // first): the limit refuses only if the month, read now, has too little left.
            const refused = closed === 0 && outcome.refuseIfNone ? limitRefusal(meter, d.month(), d.credits) : undefined;
            if (refused?.kind === 'refused') return refuse(idempotencyScopeOf(entry), entry, refused.error);
          }
        }
        break;
      }
      case 'again':
        count('CommitRetries');
        if (outcome.conflicted) await backOff(++conflicts);
        else if (attempt > 3) await sleep(Math.random() * Math.min(attempt * 2, 40));
        break;
    }
  }
  logger.warn('debit gave up', { accountId: d.accountId, trail: trail.join(' ') });
  throw new AppError('try_again', 'The balance is busy; retry with the same Idempotency-Key', undefined, {
    retryAfterSeconds: 1,
  });
}

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

const idempotencyScopeOf = (e: LedgerEntryItem): IdempotencyScope => ({
  agencyId: e.agencyId,
  operation: 'usage',
  accountId: e.accountId,
  idempotencyKey: e.idempotencyKey,
});

export const entryWrite = (entry: LedgerEntryItem): NamedItem<'entry'> => ({
  name: 'entry',
  write: putEntry(idempotencyScopeOf(entry), entry),
});

const leaseUntil = () => Date.now() + LEASE_MS;

/**
 * A limited sub-account's meter charged (its account checked, not written: meter.ts): a debit's
 * own credits, or (`forLane`) the allowance a lane sets aside.
 */
const meterWrites = (d: DebitRequest, hint: AccountHint, month: string, credits: number, forLane?: { nowMs: number }) =>
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
 * of them these claims). Its meter, on its account item, is charged exactly debit by debit; when
 * it meets another transaction there (the sub-account itself is busy) the sub-account takes
 * lanes of its own. The account item is listed on gsi1 (its agency's sub-accounts), so each
 * charge is also an index write there: docs/performance.md says what that costs.
 */
interface MeterRider {
  /** The limited sub-account's own scope and state. */
  scope: Scope;
  state: ScopeState;
  writes: ReturnType<typeof meterWrites>;
}

const poolScopeOf = (limited: Scope): Scope => ({
  id: `${itemId(limited.head)}|P`,
  head: limited.head,
  code: 'P',
  limited: false,
});

function ridePoolLane(
  d: DebitRequest,
  hint: AccountHint,
  pool: Scope,
  poolState: ScopeState,
  head: BalanceState,
  entry: LedgerEntryItem,
  rider: MeterRider,
): Promise<Outcome> {
  return poolState.lane
    ? laneDebit(d, hint, pool, poolState, head, entry, rider)
    : claim(d, hint, pool, poolState, head, entry, {}, rider);
}

/** A conflict met on the limited sub-account's meter: the sub-account itself is busy (lanes of its own next). */
function meterConflicted(reasons: CancelReason[], rider: Pick<MeterRider, 'state'> | undefined): void {
  if (rider && reasons.some((r) => (r.name === 'meter' || r.name === 'standing') && r.code === 'TransactionConflict'))
    rider.state.meterHotUntil = Date.now() + HOT_MS;
}

/** The rider's meter refused its debit: the month too spent (after its allowances come back), or facts changed. */
function meterRefused(d: DebitRequest, rider: MeterRider, item: unknown, month: string): Outcome {
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
function conflictedOn(scope: Scope): Outcome {
  forgetBalance(scope.head);
  return { kind: 'again', conflicted: true };
}

/**
 * The shared part of reading a failed attempt: the key's first outcome, or the account's
 * standing (closed; or its mode or limit changed, so the next round draws on what it is now).
 */
function judgeCommon(failed: Failed<string>, entry: LedgerEntryItem): Outcome | undefined {
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

/**
 * The balance item itself, version-pinned so the entry's balanceAfter is exact, only while no
 * lane is open and under the fence this container's account facts were read under.
 */
async function direct(
  d: DebitRequest,
  hint: AccountHint,
  scope: Scope,
  state: ScopeState,
  head: BalanceState,
  entry: LedgerEntryItem,
): Promise<Outcome> {
  const month = d.month();
  const at = entry.createdAt;
  const exact = { ...entry, balanceAfter: head.balance - d.credits };
  const result = await attempt<'balance' | 'entry' | 'standing' | 'meter'>(
    [
      {
        name: 'balance',
        write: moveBalance({
          key: scope.head,
          agencyId: hint.agencyId,
          from: head,
          delta: -d.credits,
          at,
          direct: { fence: head.fence },
        }),
      },
      entryWrite(exact),
      ...(scope.limited ? meterWrites(d, hint, month, d.credits) : []),
    ],
    { retryConflicts: false },
  );
  switch (result.kind) {
    case 'committed':
      break;
    case 'conflict':
      state.hotUntil = Date.now() + HOT_MS;
      if (scope.limited) meterConflicted(result.reasons, { state });
      return conflictedOn(scope);
    case 'stale': {
      const { failed } = result;
      const common = judgeCommon(failed, exact);
      if (common) return common;
      // The limit is judged first (API.md): a charge past it is credit_limit_reached even when the pool is short too.
      const meter = failed.meter;
      // Allowance set aside in lanes (this sub-account's, other containers') is not used: bring it
      // back before refusing (the collect refuses if nothing was out).
      const limited = meter && limitRefusal(meter.old, month, d.credits);
      if (limited?.kind === 'refused')
        return { kind: 'collect', head: scope.head, scopes: (s) => s === scope.code, refuseIfNone: limited.error };
      const failedHead = failed.balance;
      if (failedHead) {
        const seen = rememberBalance(scope.head, failedHead.old);
        if (seen.fence !== head.fence) forgetAccountsOf(hint.agencyId);
        // Collected (no lanes for a while) yet lanes still open: a collect was cut short (its
        // container lost an answer or crashed between lanes). Neither a claim nor a direct debit
        // can land until they are back, so this debit finishes the collect.
        else if (seen.lanesOpen > 0 && seen.noLanesUntil > Date.now()) return { kind: 'collect', head: scope.head };
        else if (seen.lanesOpen > 0) state.hotUntil = Date.now() + HOT_MS;
        else if (seen.balance < d.credits) return { kind: 'refused', error: insufficientCredits() };
        else if (seen.version !== head.version) {
          // Another container moved the balance since this one last saw it: retry on the version it
          // returned; several such in a short while mean the balance is busy (lanes, lanes.ts).
          noteContention(state);
          state.readFirst = true;
        }
        return { kind: 'again' };
      }
      if (meter) return { kind: 'again' };
      return throwing(result);
    }
    case 'refused':
      return throwing(result);
    default:
      return unhandled(result);
  }
  rememberBalance(scope.head, { ...head, balance: head.balance - d.credits, version: head.version + 1 });
  if (scope.limited) noteMeterMonth(d.accountId, month);
  return { kind: 'done', entry: exact, replayed: false };
}

/**
 * The balance as it is now, read before a debit that would otherwise go out on a view another
 * container has likely moved: a balance shared by many containers, each debiting it now and
 * then, is moved between any one container's debits, and a version-pinned write on the old view
 * fails (billed) before the retry on the returned item lands. A read costs less, and once a read
 * shows the view was right, this container stops reading first.
 */
async function freshView(scope: Scope, state: ScopeState): Promise<BalanceState> {
  const known = balanceKnown(scope.head) ? await balanceHint(scope.head) : undefined;
  forgetBalance(scope.head);
  const now = await balanceHint(scope.head);
  if (known && known.version === now.version) state.readFirst = false;
  return now;
}

/** A limited sub-account's meter refused: the limit is reached only when its month truly has too little left. */
function limitRefusal(item: unknown, month: string, credits: number): Outcome | undefined {
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

/** This container's lane: [lane −q; entry], or a refill riding on the debit when the lane is short. */
async function laneDebit(
  d: DebitRequest,
  hint: AccountHint,
  scope: Scope,
  state: ScopeState,
  head: BalanceState,
  entry: LedgerEntryItem,
  rider?: MeterRider,
): Promise<Outcome> {
  const lane = state.lane as NonNullable<ScopeState['lane']>;
  const month = d.month();
  const allowanceShort = scope.limited && (lane.month !== month || (lane.allowance ?? 0) < d.credits);
  if (lane.credits < d.credits || allowanceShort) return refill(d, hint, scope, state, head, entry, rider);
  const result = await attempt<'lane' | 'entry' | 'standing' | 'meter'>(
    [ownLaneDebit(scope, lane.slot, d.credits, month), entryWrite(entry), ...(rider ? rider.writes : [])],
    { retryConflicts: false },
  );
  switch (result.kind) {
    case 'committed':
      break;
    case 'conflict':
      meterConflicted(result.reasons, rider);
      return rider ? { kind: 'again', conflicted: true } : { kind: 'again' };
    case 'stale': {
      const { failed } = result;
      const common = judgeCommon(failed, entry);
      if (common) return common;
      const failedLane = failed.lane;
      if (failedLane) return laneLost(state, scope, hint, failedLane.old as LaneItem | undefined);
      if (rider && failed.meter) return meterRefused(d, rider, failed.meter.old, month);
      return throwing(result);
    }
    case 'refused':
      return throwing(result);
    default:
      return unhandled(result);
  }
  lane.credits -= d.credits;
  if (scope.limited) lane.allowance = (lane.allowance ?? 0) - d.credits;
  if (rider) noteMeterMonth(d.accountId, month);
  return { kind: 'done', entry, replayed: false };
}

/**
 * The lane is not as this container knew it: closed (a collect, a fence, the sweeper) or, if
 * it is still ours, our knowledge is refreshed from it. A closed lane may mean the facts it was
 * claimed under changed: read them again.
 */
function laneLost(state: ScopeState, scope: Scope, hint: AccountHint, seen: LaneItem | undefined): Outcome {
  if (seen && seen.owner === containerId && seen.scope === scope.code) {
    state.lane = { slot: seen.slot, credits: seen.credits, allowance: seen.allowance, month: seen.month };
    return { kind: 'again' };
  }
  state.lane = undefined;
  forgetBalance(scope.head);
  forgetAccountsOf(hint.agencyId);
  return { kind: 'again' };
}

/** Moves a chunk from the balance item into this container's lane, with the debit, in one transaction. */
async function refill(
  d: DebitRequest,
  hint: AccountHint,
  scope: Scope,
  state: ScopeState,
  head: BalanceState,
  entry: LedgerEntryItem,
  rider?: MeterRider,
): Promise<Outcome> {
  const lane = state.lane as NonNullable<ScopeState['lane']>;
  // No longer busy, and the only lane: give it back and debit the balance item again.
  if (head.lanesOpen <= 1 && state.hotUntil < Date.now()) return releaseOwn(scope, state);
  const month = d.month();
  const need = Math.max(0, d.credits - lane.credits);
  const credits = need > 0 ? chunkFor(state, need, head) : 0;
  const newMonth = scope.limited && lane.month !== month;
  const allowanceNeed = scope.limited ? Math.max(0, d.credits - (newMonth ? 0 : (lane.allowance ?? 0))) : 0;
  const allowance =
    scope.limited && (allowanceNeed > 0 || newMonth)
      ? allowanceChunk(
          Math.max(credits, d.credits * MIN_DEBITS_PER_CHUNK),
          allowanceNeed || d.credits,
          hint.meterRemaining ?? Number.MAX_SAFE_INTEGER,
        )
      : 0;
  const at = entry.createdAt;
  const result = await attempt<'head' | 'lane' | 'entry' | 'standing' | 'meter'>(
    [
      ...(credits > 0
        ? [{ name: 'head' as const, write: fundLane({ key: scope.head, credits, fence: head.fence, at, nowMs: Date.now() }) }]
        : []),
      {
        name: 'lane',
        write: debitLane({
          head: scope.head,
          slot: lane.slot,
          scope: scope.code,
          owner: containerId,
          credits: d.credits,
          gain: credits,
          allowance: scope.limited
            ? { month, take: d.credits, gain: allowance, ...(newMonth ? { resetTo: allowance } : {}) }
            : undefined,
          leaseUntil: leaseUntil(),
        }),
      },
      entryWrite(entry),
      ...(allowance > 0 ? meterWrites(d, hint, month, allowance, { nowMs: Date.now() }) : []),
      ...(rider ? rider.writes : []),
    ],
    { retryConflicts: false },
  );
  switch (result.kind) {
    case 'committed':
      break;
    case 'conflict':
      state.hotUntil = Date.now() + HOT_MS;
      meterConflicted(result.reasons, rider);
      return conflictedOn(scope);
    case 'stale': {
      const { failed } = result;
      const common = judgeCommon(failed, entry);
      if (common) return common;
      const failedLane = failed.lane;
      if (failedLane) return laneLost(state, scope, hint, failedLane.old as LaneItem | undefined);
      const failedHead = failed.head;
      if (failedHead) return headRefused(hint, scope, state, head, failedHead.old, need);
      const meter = failed.meter;
      if (meter) return rider ? meterRefused(d, rider, meter.old, month) : allowanceRefused(d, scope, meter.old, month);
      return throwing(result);
    }
    case 'refused':
      return throwing(result);
    default:
      return unhandled(result);
  }
  lane.credits += credits - d.credits;
  if (scope.limited) {
    lane.allowance = (newMonth ? 0 : (lane.allowance ?? 0)) + allowance - d.credits;
    lane.month = month;
  }
  if (scope.limited || rider) noteMeterMonth(d.accountId, month);
  if (credits > 0) updateBalanceHint(scope.head, { balance: head.balance - credits, version: head.version + 1 });
  return { kind: 'done', entry, replayed: false };
}

/**
 * The balance item refused a chunk: its fence moved (this container's facts and lane are stale),
 * it was collected (no lanes for a while), or it holds less than the chunk: a smaller one if it
 * can give what the debit needs, else every lane comes back before anything is refused.
 */
function headRefused(
  hint: AccountHint,
  scope: Scope,
  state: ScopeState,
  head: BalanceState,
  item: unknown,
  need: number,
): Outcome {
  const seen = rememberBalance(scope.head, item as Partial<Record<keyof BalanceState, number>> | undefined);
  if (seen.fence !== head.fence) {
    state.lane = undefined;
    forgetAccountsOf(hint.agencyId);
    return { kind: 'again' };
  }
  if (seen.noLanesUntil > Date.now()) return { kind: 'collect', head: scope.head };
  // The balance item can still give what the debit needs: the next chunk is sized to what it holds.
  if (seen.balance >= need) return { kind: 'again' };
  return { kind: 'collect', head: scope.head };
}

/**
 * A limited sub-account's meter refused an allowance (judgeCommon has judged its standing and
 * remembered the meter): its limit changed, or its month is nearly spent.
 */
function allowanceRefused(d: DebitRequest, scope: Scope, item: unknown, month: string, exact = false): Outcome {
  const meter = item as MeterItem | undefined;
  if (typeof meter?.monthlyCreditLimit !== 'number') return { kind: 'again' };
  // Another container collected the month's allowances: debit one by one (the next round does).
  if ((meter.lanesOffUntil ?? 0) > Date.now() && !exact) return { kind: 'again' };
  // What is left of the month may still cover this debit from a smaller allowance: try that.
  if (monthRoom(meter, month) >= d.credits) return { kind: 'again' };
  // Too little left to set aside: bring this sub-account's allowances back and try again; when
  // none were out, the month truly has too little left. (Not `direct`: other scopes' lanes may
  // keep the balance item from taking direct debits, and the claim would refuse forever.)
  const refused = limitRefusal(meter, month, d.credits);
  return {
    kind: 'collect',
    head: scope.head,
    scopes: (s) => s === scope.code,
    refuseIfNone: refused?.kind === 'refused' ? refused.error : undefined,
  };
}

/** Gives this container's lane back (nothing busy any more) and debits the balance item next. */
async function releaseOwn(scope: Scope, state: ScopeState): Promise<Outcome> {
  state.lane = undefined;
  await closeLanes(scope.head, { scopes: (s) => s === scope.code, ownedBy: containerId });
  forgetBalance(scope.head);
  return { kind: 'again' };
}

/** A slot with no lane in it (or a lane whose lease ran out with nothing in it), picked at random among them. */
async function freeSlot(head: Key, slots: number): Promise<number | undefined> {
  const taken = new Set<number>();
  for (const lane of await getLanes(head, slots)) {
    const empty = lane.credits === 0 && !lane.allowance;
    if (!(empty && lane.leaseUntil < Date.now())) taken.add(lane.slot);
  }
  const free = Array.from({ length: slots }, (_, slot) => slot).filter((slot) => !taken.has(slot));
  return free.length ? free[Math.floor(Math.random() * free.length)] : undefined;
}

/** A lane of its own for this container: a free slot, a chunk of the balance, and the debit, in one transaction. */
async function claim(
  d: DebitRequest,
  hint: AccountHint,
  scope: Scope,
  state: ScopeState,
  head: BalanceState,
  entry: LedgerEntryItem,
  how: { exactAllowance?: boolean } = {},
  rider?: MeterRider,
): Promise<Outcome> {
  const month = d.month();
  // A slot given back is reused (read which: a read costs less than a claim refused on a taken
  // slot, which the balance's busiest moments would otherwise pay again and again).
  const free = head.lanesOpen < head.laneSlots ? await freeSlot(scope.head, head.laneSlots) : undefined;
  const fresh = free === undefined;
  if (fresh && head.laneSlots >= MAX_SLOTS)
    return rider ? direct(d, hint, rider.scope, rider.state, head, entry) : direct(d, hint, scope, state, head, entry);
  // A new slot drawn from the next page: containers turning to lanes at once, from the same view
  // of the balance, do not all ask for the same one (only one could have it).
  const slot = free ?? head.laneSlots + Math.floor(Math.random() * Math.min(SLOT_PAGE, MAX_SLOTS - head.laneSlots));
  const credits = chunkFor(state, d.credits, head);
  const allowance = !scope.limited
    ? 0
    : how.exactAllowance
      ? d.credits
      : allowanceChunk(credits, d.credits, hint.meterRemaining ?? Number.MAX_SAFE_INTEGER);
  const at = entry.createdAt;
  const lane: LaneItem = {
    kind: itemKinds.lane,
    agencyId: hint.agencyId,
    headPk: scope.head.pk,
    headSk: scope.head.sk,
    slot,
    scope: scope.code,
    credits: credits - d.credits,
    spent: d.credits,
    ...(scope.limited ? { allowance: allowance - d.credits, month } : {}),
    owner: containerId,
    leaseUntil: leaseUntil(),
    fence: head.fence,
  };
  const result = await attempt<'head' | 'lane' | 'listed' | 'entry' | 'standing' | 'meter'>(
    [
      {
        name: 'head',
        write: fundLane({
          key: scope.head,
          credits,
          fence: head.fence,
          opens: fresh ? { newSlotAfter: slot } : {},
          at,
          nowMs: Date.now(),
        }),
      },
      { name: 'lane', write: claimLane(lane) },
      { name: 'listed', write: listLaneHead(scope.head, at) },
      entryWrite(entry),
      // Just this debit's allowance is the debit's own charge: allowed while lanes are off.
      ...(scope.limited ? meterWrites(d, hint, month, allowance, how.exactAllowance ? undefined : { nowMs: Date.now() }) : []),
      ...(rider ? rider.writes : []),
    ],
    { retryConflicts: false },
  );
  switch (result.kind) {
    case 'committed':
      break;
    case 'conflict':
      meterConflicted(result.reasons, rider);
      return conflictedOn(scope);
    case 'stale': {
      const { failed } = result;
      const common = judgeCommon(failed, entry);
      if (common) return common;
      // The limit is judged before the balance (API.md): a month too spent is answered (or its
      // allowances collected) even when the pool is short too.
      const meter = failed.meter;
      const byLimit =
        meter &&
        (rider ? meterRefused(d, rider, meter.old, month) : allowanceRefused(d, scope, meter.old, month, how.exactAllowance));
      if (byLimit && byLimit.kind !== 'again') return byLimit;
      const failedHead = failed.head;
      if (failedHead) {
        const seen = rememberBalance(scope.head, failedHead.old as Partial<Record<keyof BalanceState, number>> | undefined);
        if (seen.fence !== head.fence) forgetAccountsOf(hint.agencyId);
        else if (seen.noLanesUntil > Date.now() || seen.laneSlots !== head.laneSlots) return { kind: 'again' };
        else if (seen.balance < d.credits) {
          return seen.lanesOpen > 0 ? { kind: 'collect', head: scope.head } : { kind: 'refused', error: insufficientCredits() };
        }
        return { kind: 'again' };
      }
      // The slot is taken (another container's lane): look at the balance's slots again.
      if (failed.lane) {
        forgetBalance(scope.head);
        return { kind: 'again' };
      }
      if (byLimit) return byLimit;
      return throwing(result);
    }
    case 'refused':
      return throwing(result);
    default:
      return unhandled(result);
  }
  state.lane = { slot, credits: lane.credits, allowance: lane.allowance, month: lane.month };
  updateBalanceHint(scope.head, {
    balance: head.balance - credits,
    version: head.version + 1,
    lanesOpen: head.lanesOpen + 1,
    laneSlots: fresh ? Math.max(head.laneSlots, slotCountAfter(slot)) : head.laneSlots,
  });
  if (scope.limited || rider) noteMeterMonth(d.accountId, month);
  count('LanesClaimed');
  return { kind: 'done', entry, replayed: false };
}
