import { count } from '#core/metrics';
import { fundLane, getBalance, SLOT_PAGE, slotCountAfter } from '#db/items/balance';
import { AHEAD, claimLane, debitLane, getLanes, type LaneItem } from '#db/items/lane';
import { listLaneHead } from '#db/items/lane-head';
import type { LedgerEntryItem } from '#db/items/ledger-entry';
import { type MeterItem, monthRoom } from '#db/items/meter';
import { itemKinds, type Key } from '#db/schema';
import { attempt, throwing, unhandled } from '#db/transact';
import { type AccountHint, forgetAccountsOf, noteMeterMonth } from './account-hints';
import { type BalanceState, forgetBalance, rememberBalance, type StoredState, updateBalanceHint } from './balance-state';
import { insufficientCredits } from './commit';
import { aheadCount, takeAhead } from './debit-ahead';
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

/**
 * The balance's slots as they are now: those with no lane in them (or a lane whose lease ran out
 * with nothing in it), in random order; of them those with no lane item at all (`empty`); and
 * how many lanes of `scope` containers own now (`inUse`: how busy the scope is, for the fill).
 */
async function readSlots(head: Key, slots: number, scope: string): Promise<{ free: number[]; empty: number[]; inUse: number }> {
  const taken = new Set<number>();
  const there = new Set<number>();
  let inUse = 0;
  for (const lane of await getLanes(head, slots)) {
    there.add(lane.slot);
    const spent = lane.credits === 0 && !lane.allowance;
    const idle = lane.leaseUntil < Date.now();
    if (!(spent && idle)) taken.add(lane.slot);
    if (lane.scope === scope && lane.owner !== AHEAD && !idle) inUse++;
  }
  const free = Array.from({ length: slots }, (_, slot) => slot).filter((slot) => !taken.has(slot));
  for (let i = free.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [free[i], free[j]] = [free[j] as number, free[i] as number];
  }
  return { free, empty: free.filter((slot) => !there.has(slot)), inUse };
}

/**
 * The slots of `n` lanes to fill ahead beside the claimer's own `slot`: slots with no lane item
 * first (a spent lane not closed yet would refuse the whole claim until the sweeper closes it),
 * then new ones past every slot numbered so far (and past the claimer's page, when its slot is new).
 */
function slotsAhead(n: number, slot: number, empty: number[], head: BalanceState): number[] {
  const reused = empty.filter((s) => s !== slot).slice(0, n);
  const from = Math.max(head.laneSlots, slot >= head.laneSlots ? slotCountAfter(slot) : 0);
  const fresh = Array.from({ length: Math.max(0, Math.min(n - reused.length, MAX_SLOTS - from)) }, (_, i) => from + i);
  return [...reused, ...fresh];
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
  let view = head;
  // A lane the last claim filled ahead, if one is left: no write of the balance item at all.
  if (!how.exactAllowance && head.aheadSlots.length) {
    const took = await takeAhead(d, scope, state, head, entry, rider);
    if (took) return took;
    // None left in the fill this container knows of: another claim may have filled more since.
    // A read tells, where a claim on a stale view would fail (billed) on the fill's count.
    const seen = rememberBalance(scope.head, (await getBalance(scope.head)) as StoredState | undefined);
    if (seen.aheadSeq !== head.aheadSeq || seen.fence !== head.fence) return { kind: 'again' };
    view = seen;
  }
  // A slot given back is reused (read which: a read costs less than a claim refused on a taken
  // slot, which the balance's busiest moments would otherwise pay again and again). The same
  // read tells how busy the scope is, which sizes the fill ahead.
  const full = view.lanesOpen >= MAX_SLOTS;
  const slots = full ? { free: [], empty: [], inUse: 0 } : await readSlots(scope.head, view.laneSlots, scope.code);
  const free = slots.free[0];
  const fresh = free === undefined;
  if (fresh && view.laneSlots >= MAX_SLOTS)
    return rider ? direct(d, hint, rider.scope, rider.state, view, entry) : direct(d, hint, scope, state, view, entry);
  // A new slot drawn from the next page: containers turning to lanes at once, from the same view
  // of the balance, do not all ask for the same one (only one could have it).
  const slot = free ?? view.laneSlots + Math.floor(Math.random() * Math.min(SLOT_PAGE, MAX_SLOTS - view.laneSlots));
  const credits = chunkFor(state, d.credits, view);
  const allowance = !scope.limited
    ? 0
    : how.exactAllowance
      ? d.credits
      : allowanceChunk(credits, d.credits, hint.meterRemaining ?? Number.MAX_SAFE_INTEGER);
  const at = entry.createdAt;
  const ahead = how.exactAllowance
    ? []
    : slotsAhead(
        aheadCount(
          view,
          slots.inUse,
          credits,
          scope.limited ? { allowance, remaining: hint.meterRemaining ?? Number.MAX_SAFE_INTEGER } : undefined,
        ),
        slot,
        slots.empty,
        view,
      );
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
    fence: view.fence,
  };
  // Lanes filled ahead hold a whole chunk (and allowance) each, for whichever container takes them.
  const filled = ahead.map(
    (s): LaneItem => ({
      ...lane,
      slot: s,
      credits,
      spent: 0,
      ...(scope.limited ? { allowance } : {}),
      owner: AHEAD,
    }),
  );
  const highest = Math.max(slot, ...ahead);
  const lanes = 1 + ahead.length;
  const result = await attempt<'head' | 'lane' | 'ahead' | 'listed' | 'entry' | 'standing' | 'meter'>(
    [
      {
        name: 'head',
        write: fundLane({
          key: scope.head,
          credits: credits * lanes,
          fence: view.fence,
          opens: highest >= view.laneSlots ? { newSlotAfter: highest, lanes } : { lanes },
          claim: { seenSeq: view.aheadSeq, aheadSlots: ahead },
          at,
          nowMs: Date.now(),
        }),
      },
      { name: 'lane', write: claimLane(lane) },
      ...filled.map((l) => ({ name: 'ahead' as const, write: claimLane(l) })),
      { name: 'listed', write: listLaneHead(scope.head, at) },
      entryWrite(entry),
      // Just this debit's allowance is the debit's own charge: allowed while lanes are off.
      ...(scope.limited
        ? meterWrites(d, hint, month, allowance * lanes, how.exactAllowance ? undefined : { nowMs: Date.now() })
        : []),
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
        const seen = rememberBalance(scope.head, failedHead.old as StoredState | undefined);
        if (seen.fence !== view.fence) forgetAccountsOf(hint.agencyId);
        // Another claim came first (its lanes filled ahead are next), or slots were numbered since.
        else if (seen.noLanesUntil > Date.now() || seen.laneSlots !== view.laneSlots || seen.aheadSeq !== view.aheadSeq)
          return { kind: 'again' };
        else if (seen.balance < d.credits) {
          return seen.lanesOpen > 0 ? { kind: 'collect', head: scope.head } : { kind: 'refused', error: insufficientCredits() };
        }
        return { kind: 'again' };
      }
      // A slot is taken (another container's lane): look at the balance's slots again.
      if (failed.lane || failed.ahead) {
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
    balance: view.balance - credits * lanes,
    version: view.version + 1,
    lanesOpen: view.lanesOpen + lanes,
    laneSlots: Math.max(view.laneSlots, highest >= view.laneSlots ? slotCountAfter(highest) : 0),
    aheadSeq: view.aheadSeq + 1,
    ...(ahead.length ? { aheadSlots: ahead } : {}),
  });
  if (scope.limited || rider) noteMeterMonth(d.accountId, month);
  count('LanesClaimed');
  return { kind: 'done', entry, replayed: false };
}
