import { count } from '#core/metrics';
import { AHEAD, getLanesAt, type LaneItem, takeLane } from '#db/items/lane';
import type { LedgerEntryItem } from '#db/items/ledger-entry';
import { attempt, throwing, unhandled } from '#db/transact';
import { noteMeterMonth } from './account-hints';
import type { BalanceState } from './balance-state';
import {
  type DebitRequest,
  entryWrite,
  judgeCommon,
  leaseUntil,
  type MeterRider,
  meterConflicted,
  meterRefused,
  type Outcome,
  type Scope,
} from './debit-attempt';
import { containerId, MAX_SLOTS, type ScopeState } from './lanes';

/**
 * Lanes filled ahead: how a busy balance's new containers get lanes without each writing the
 * balance item.
 *
 * Every container needs a lane of its own before its debits stop writing the balance item, and
 * the balance item commits one transaction at a time (about 66 a second on AWS: the simulation,
 * scripts/sim/RESULTS.md, design E). When a campaign starts, Lambda starts containers by the
 * hundred; a claim cancelled by another keeps its container busy, so the next requests start
 * more containers, each one more claimer, and every cancelled claim is billed. So a claim also
 * fills lanes that no container owns yet (owner `AHEAD`), in the same transaction, and names
 * their slots on the balance item; the next containers that need a lane take one of those
 * (`takeLane`: the lane and the debit's entry, nothing else), and only when none is left does a
 * container claim on the balance item again, filling more.
 *
 * A claim fills twice as many lanes as its scope has in use, one more counted (so 2, then
 * 8, 24…, at most 64): a storm is met in a few claims, a scope that one container uses now and
 * then fills two. Never more than a quarter of the balance's free slots (the balance's other
 * scopes need theirs), and never setting aside more than half of what the balance (and a
 * limited month) holds. (Counted from the balance's lanes of every scope, the bench's agency of
 * 50 clients filled 64 lanes for a client that debits once a second: its 512 slots ran out,
 * its limited clients fell back to debiting the pool item, and some of those answered 503.
 * Sized from the scope's own last fill instead, the simulation's pool at 10,000/s answered 23%
 * of debits 201 instead of 67%: a pool's lanes serve several scopes, and each fill for another
 * restarted the count.)
 * Lanes filled ahead are lanes like any other: counted in `lanesOpen`, summed into the exact
 * balance, closed by a collect or a fence, and given back by the sweeper when nobody took them
 * within their lease. A claim is made only on the view of the last one (`aheadSeq`), so
 * containers that find the list empty at once do not all fill.
 */
export const FILL_AHEAD_AT_MOST = 64;

/**
 * How many lanes a claim of `credits` each (and, limited, `allowance` of `remaining`) fills
 * ahead, when `inUse` lanes of its scope are owned by containers now.
 */
export function aheadCount(
  head: BalanceState,
  inUse: number,
  credits: number,
  limited?: { allowance: number; remaining: number },
): number {
  let n = Math.min(FILL_AHEAD_AT_MOST, 2 * (inUse + 1), Math.floor((MAX_SLOTS - head.lanesOpen - 1) / 4));
  // Never more than half of what the balance (and the month's room) holds, the claim's own lane included.
  n = Math.min(n, Math.floor(head.balance / (2 * credits)) - 1);
  if (limited) n = Math.min(n, Math.floor(limited.remaining / (2 * Math.max(1, limited.allowance))) - 1);
  return Math.max(0, n);
}

/** A few lanes filled ahead are tried before claiming on the balance item: each try that loses a race is billed. */
const TAKE_TRIES = 3;

/**
 * This debit on a lane the last claim filled ahead, which becomes this container's lane; or
 * undefined when none is left to take (the caller claims on the balance item).
 */
export async function takeAhead(
  d: DebitRequest,
  scope: Scope,
  state: ScopeState,
  head: BalanceState,
  entry: LedgerEntryItem,
  rider?: MeterRider,
): Promise<Outcome | undefined> {
  const month = d.month();
  const waiting = (await getLanesAt(scope.head, head.aheadSlots)).filter((lane) => takeable(lane, scope, head, d.credits, month));
  for (const lane of shuffled(waiting).slice(0, TAKE_TRIES)) {
    const result = await attempt<'lane' | 'entry' | 'standing' | 'meter'>(
      [
        { name: 'lane', write: takeLane(lane, containerId, d.credits, leaseUntil()) },
        entryWrite(entry),
        ...(rider ? rider.writes : []),
      ],
      { retryConflicts: false },
    );
    switch (result.kind) {
      case 'committed':
        state.lane = {
          slot: lane.slot,
          credits: lane.credits - d.credits,
          allowance: lane.allowance === undefined ? undefined : lane.allowance - d.credits,
          month: lane.month,
        };
        if (rider) noteMeterMonth(d.accountId, month);
        count('LanesTaken');
        return { kind: 'done', entry, replayed: false };
      case 'conflict':
        meterConflicted(result.reasons, rider);
        // Another container is taking this lane: the next one.
        if (result.reasons.every((r) => r.name === 'lane')) continue;
        return { kind: 'again', conflicted: true };
      case 'stale': {
        const { failed } = result;
        const common = judgeCommon(failed, entry);
        if (common) return common;
        if (rider && failed.meter) return meterRefused(d, rider, failed.meter.old, month);
        if (failed.lane) continue; // taken (or closed) meanwhile
        return throwing(result);
      }
      case 'refused':
        return throwing(result);
      default:
        return unhandled(result);
    }
  }
  return undefined;
}

/** A lane filled ahead for this scope, under the fence this container's facts hold under, with room for the debit. */
function takeable(lane: LaneItem, scope: Scope, head: BalanceState, credits: number, month: string): boolean {
  if (lane.owner !== AHEAD || lane.scope !== scope.code || lane.fence !== head.fence || lane.credits < credits) return false;
  return !scope.limited || (lane.month === month && (lane.allowance ?? 0) >= credits);
}

/** The items in random order (Fisher–Yates), so containers reading the same list at once pick apart. */
export function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
