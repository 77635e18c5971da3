import { count } from '#core/metrics';
import { fundLane, SLOT_PAGE, slotCountAfter } from '#db/items/balance';
import { claimLane, debitLane, getLanes, type LaneItem } from '#db/items/lane';
import { listLaneHead } from '#db/items/lane-head';
import type { LedgerEntryItem } from '#db/items/ledger-entry';
import { type MeterItem, monthRoom } from '#db/items/meter';
import { itemKinds, type Key } from '#db/schema';
import { attempt, throwing, unhandled } from '#db/transact';
import { type AccountHint, forgetAccountsOf, noteMeterMonth } from './account-hints';
import { type BalanceState, forgetBalance, rememberBalance, updateBalanceHint } from './balance-state';
import { insufficientCredits } from './commit';
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
import { direct } from './debit-direct';
import {
  allowanceChunk,
  chunkFor,
  closeLanes,
  containerId,
  HOT_MS,
  MAX_SLOTS,
  MIN_DEBITS_PER_CHUNK,
  type ScopeState,
} from './lanes';

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
export async function releaseOwn(scope: Scope, state: ScopeState): Promise<Outcome> {
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
export async function claim(
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
