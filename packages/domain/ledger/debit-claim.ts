import { count } from '#core/metrics';
import { fundLane, getBalance, SLOT_PAGE, slotCountAfter } from '#db/items/balance';
import { AHEAD, claimLane, getLanes, type LaneItem } from '#db/items/lane';
import { listLaneHead } from '#db/items/lane-head';
import type { LedgerEntryItem } from '#db/items/ledger-entry';
import { itemKinds, type Key } from '#db/schema';
import { attempt, type TransactResult, throwing, unhandled } from '#db/transact';
import { type AccountHint, forgetAccountsOf, noteMeterMonth } from './account-hints';
import { type BalanceState, forgetBalance, rememberBalance, type StoredState, updateBalanceHint } from './balance-state';
import { insufficientCredits } from './commit';
import { aheadCount, shuffled, takeAhead } from './debit-ahead';
import {
  conflictedOn,
  type DebitRequest,
  entryWrite,
  judgeCommon,
  leaseUntil,
  type MeterRider,
  meterConflicted,
  meterRefused,
  meterWrites,
  type Outcome,
  type Scope,
} from './debit-attempt';
import { direct } from './debit-direct';
import { allowanceRefused } from './debit-lanes';
import { allowanceChunk, chunkFor, containerId, MAX_SLOTS, type ScopeState } from './lanes';

/**
 * How a container gets a lane of its own on a busy balance (lanes.ts says what lanes are): one
 * the last claim filled ahead when one is left (debit-ahead.ts), else a claim on the balance
 * item: a free slot, a chunk of the balance, the debit, and lanes filled ahead for the next
 * containers, in one transaction.
 */

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
  const free = shuffled(Array.from({ length: slots }, (_, slot) => slot).filter((slot) => !taken.has(slot)));
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
  const result = await attempt<ClaimItem>(
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
    case 'stale':
      return claimRefused(d, hint, scope, view, entry, result, { month, exactAllowance: how.exactAllowance, rider });
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

type ClaimItem = 'head' | 'lane' | 'ahead' | 'listed' | 'entry' | 'standing' | 'meter';

/** What a claim's failed conditions say: the debit refused, the lanes collected, or another round. */
function claimRefused(
  d: DebitRequest,
  hint: AccountHint,
  scope: Scope,
  view: BalanceState,
  entry: LedgerEntryItem,
  result: Extract<TransactResult<ClaimItem>, { kind: 'stale' }>,
  { month, exactAllowance, rider }: { month: string; exactAllowance?: boolean; rider?: MeterRider },
): Outcome {
  const { failed } = result;
  const common = judgeCommon(failed, entry);
  if (common) return common;
  // The limit is judged before the balance (API.md): a month too spent is answered (or its
  // allowances collected) even when the pool is short too.
  const meter = failed.meter;
  const byLimit =
    meter && (rider ? meterRefused(d, rider, meter.old, month) : allowanceRefused(d, scope, meter.old, month, exactAllowance));
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
