import { fundLane } from '#db/items/balance';
import { debitLane, type LaneDebit, type LaneItem } from '#db/items/lane';
import type { LedgerEntryItem } from '#db/items/ledger-entry';
import { type MeterItem, monthRoom } from '#db/items/meter';
import { attempt, throwing, unhandled } from '#db/transact';
import { type AccountHint, forgetAccountsOf, noteMeterMonth } from './account-hints';
import { type BalanceState, forgetBalance, rememberBalance, type StoredState, updateBalanceHint } from './balance-state';
import {
  conflictedOn,
  type DebitRequest,
  entryWrite,
  judgeCommon,
  leaseUntil,
  limitRefusal,
  type MeterRider,
  meterConflicted,
  meterRefused,
  meterWrites,
  type Outcome,
  ownLaneDebit,
  type Scope,
} from './debit-attempt';
import { closeLanes } from './lane-close';
import { allowanceChunk, chunkFor, containerId, HOT_MS, MIN_DEBITS_PER_CHUNK, REFILL_LEAD_MS, type ScopeState } from './lanes';

/**
 * A busy balance's debits, through this container's lane (lanes.ts says what lanes are): the
 * debit itself, a refill riding on it when the lane is short, the claim of a lane, and giving
 * one back when the balance is no longer busy.
 */

/** This container's lane: [lane −q; entry], or a refill riding on the debit when the lane is short. */
export async function laneDebit(
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
  if (!scope.limited && !rider && runningLow(state, lane.credits - d.credits)) {
    const ahead = await refillAhead(d, hint, scope, state, head, entry);
    if (ahead) return ahead;
  }
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

/** The lane will hold less than REFILL_LEAD_MS of this container's use after this debit (and no refill ahead is paused). */
function runningLow(state: ScopeState, leftAfter: number): boolean {
  return leftAfter < (state.rate * REFILL_LEAD_MS) / 1000 && Date.now() >= (state.refillAheadAfter ?? 0);
}

/**
 * A refill before the lane runs dry, riding on a debit the lane can still cover (a pool's or a
 * wallet's lane; a limited lane's allowance is refilled when it runs out). When the balance item
 * is busy (another transaction on it) or short, the debit goes on the lane alone (undefined) and
 * this container tries again a little later; a closed lane or a moved fence is answered as any
 * debit's would be.
 */
async function refillAhead(
  d: DebitRequest,
  hint: AccountHint,
  scope: Scope,
  state: ScopeState,
  head: BalanceState,
  entry: LedgerEntryItem,
): Promise<Outcome | undefined> {
  const lane = state.lane as NonNullable<ScopeState['lane']>;
  const credits = chunkFor(state, d.credits, head);
  const at = entry.createdAt;
  const result = await attempt<'head' | 'lane' | 'entry' | 'standing'>(
    [...refillItems(scope, head, lane.slot, d.credits, credits, at), entryWrite(entry)],
    { retryConflicts: false },
  );
  const later = (ms: number) => {
    state.refillAheadAfter = Date.now() + ms * (0.5 + Math.random());
    return undefined;
  };
  switch (result.kind) {
    case 'committed':
      lane.credits += credits - d.credits;
      updateBalanceHint(scope.head, { balance: head.balance - credits, version: head.version + 1 });
      return { kind: 'done', entry, replayed: false };
    case 'conflict':
      return later(200);
    case 'stale': {
      const { failed } = result;
      const common = judgeCommon(failed, entry);
      if (common) return common;
      if (failed.lane) return laneLost(state, scope, hint, failed.lane.old as LaneItem | undefined);
      if (failed.head) {
        const seen = rememberBalance(scope.head, failed.head.old as StoredState | undefined);
        // Facts read under the old fence are stale, this lane closed with it: as a refill would.
        if (seen.fence !== head.fence) return headRefused(hint, scope, state, head, failed.head.old, d.credits);
        return later(1_000);
      }
      return throwing(result);
    }
    case 'refused':
      return throwing(result);
    default:
      return unhandled(result);
  }
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
      ...refillItems(
        scope,
        head,
        lane.slot,
        d.credits,
        credits,
        at,
        scope.limited ? { month, take: d.credits, gain: allowance, ...(newMonth ? { resetTo: allowance } : {}) } : undefined,
      ),
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
 * A refill's writes: `credits` from the balance item (none when 0), and this container's lane
 * taking the debit and gaining them (and, limited, the allowance).
 */
function refillItems(
  scope: Scope,
  head: BalanceState,
  slot: number,
  debit: number,
  credits: number,
  at: string,
  allowance?: LaneDebit['allowance'],
) {
  return [
    ...(credits > 0
      ? [{ name: 'head' as const, write: fundLane({ key: scope.head, credits, fence: head.fence, at, nowMs: Date.now() }) }]
      : []),
    {
      name: 'lane' as const,
      write: debitLane({
        head: scope.head,
        slot,
        scope: scope.code,
        owner: containerId,
        credits: debit,
        gain: credits,
        allowance,
        leaseUntil: leaseUntil(),
      }),
    },
  ];
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
  const seen = rememberBalance(scope.head, item as StoredState | undefined);
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
export function allowanceRefused(d: DebitRequest, scope: Scope, item: unknown, month: string, exact = false): Outcome {
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
export async function releaseOwn(scope: Scope, state: ScopeState): Promise<Outcome> {
  state.lane = undefined;
  await closeLanes(scope.head, { scopes: (s) => s === scope.code, ownedBy: containerId });
  forgetBalance(scope.head);
  return { kind: 'again' };
}
