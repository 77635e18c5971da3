import { logger } from '#core/logger';
import { count } from '#core/metrics';
import { getBalance, returnLane } from '#db/items/balance';
import { closeLane, freezeLane, getLanes, type LaneItem } from '#db/items/lane';
import { unlistLaneHead } from '#db/items/lane-head';
import { returnAllowance } from '#db/items/meter';
import { itemId } from '#db/read';
import type { Key } from '#db/schema';
import { attempt, type NamedItem, throwing, unhandled } from '#db/transact';
import { rememberBalance } from './balance-state';

/**
 * Closing a balance's lanes (lanes.ts says what they are): their credits back into the balance
 * item, their spending into its `consumed`, a limited lane's allowance back to its month.
 *
 * One lane closes in one transaction with the balance item, exactly as it was read. Many (a
 * collect when the balance runs short, a fence moved, the sweeper after a busy hour) would be
 * as many transactions on that one item, one after another (each changes `lanesOpen`, which the
 * next is conditioned on): a collect of 300 lanes held its debit for seconds while every other
 * container's claim and refill met it. So many lanes are first frozen, each in a write of its
 * own that no other touches (its owner becomes CLOSING: its debits and takes fail from then on,
 * and the write answers the lane as it now is, which nothing can change any more), and then
 * closed up to CLOSE_BATCH to a transaction with one write of the balance item.
 */
export interface CloseOptions {
  /** Only lanes of these scopes (all lanes of the balance when absent). */
  scopes?: (scope: string) => boolean;
  /** Close only lanes whose lease ran out (the sweeper). */
  idleOnly?: boolean;
  /** Close only this container's own lanes (giving one back when it is no longer busy). */
  ownedBy?: string;
  /** Mark the balance collected: no lanes until then (epoch ms). */
  noLanesUntil?: number;
  /** With allowances collected (a limited sub-account's month nearly spent): its lanes stay off until then. */
  limitLanesOffUntil?: number;
}

/**
 * Lanes closed in one transaction at most: with an allowance return for each (lanes of as many
 * limited sub-accounts), the balance item and the sweeper's list, within DynamoDB's 100 items.
 */
export const CLOSE_BATCH = 48;

/**
 * Closes the balance's lanes (those `opts` select), each exactly as read (or as frozen), its
 * credits (and a limited lane's allowance, in its month) back where they came from, its
 * spending into the balance's `consumed`. A lane that moved meanwhile (its owner debited it)
 * is read again. Returns how many were closed.
 */
export async function closeLanes(head: Key, opts: CloseOptions = {}): Promise<number> {
  let closed = 0;
  for (let round = 0; round < 8; round++) {
    const item = await getBalance(head);
    if (!item?.laneSlots) return closed;
    rememberBalance(head, item);
    const now = Date.now();
    const lanes = (await getLanes(head, item.laneSlots)).filter(
      (l) =>
        (!opts.scopes || opts.scopes(l.scope)) &&
        (!opts.idleOnly || l.leaseUntil < now) &&
        (!opts.ownedBy || l.owner === opts.ownedBy),
    );
    if (lanes.length === 0) return closed;
    let moved: boolean;
    if (lanes.length === 1) {
      const outcome = await closeOne(
        head,
        lanes[0] as LaneItem,
        item.lanesOpen ?? 0,
        opts.noLanesUntil,
        true,
        opts.limitLanesOffUntil,
      );
      if (outcome === 'closed') closed++;
      moved = outcome !== 'closed';
    } else {
      const only = { idleBefore: opts.idleOnly ? now : undefined, ownedBy: opts.ownedBy };
      const frozen = (await Promise.all(lanes.map((l) => freezeLane(head, l.slot, l.scope, only)))).filter(
        (l): l is LaneItem => l !== undefined,
      );
      let lanesOpen = item.lanesOpen ?? 0;
      let left = frozen.length;
      for (let i = 0; i < frozen.length; i += CLOSE_BATCH) {
        const batch = await closeFrozen(head, frozen.slice(i, i + CLOSE_BATCH), lanesOpen, opts);
        closed += batch.closed;
        left -= batch.closed;
        lanesOpen = batch.lanesOpen;
      }
      moved = left > 0 || frozen.length < lanes.length;
    }
    if (!moved) return closed;
  }
  logger.warn('lanes kept moving while they were closed', { head: itemId(head), closed });
  return closed;
}

/**
 * Frozen lanes closed in one transaction with one write of the balance item (conditioned on
 * `lanesOpen`, as one close is), and their allowances back to their months. Another transaction
 * on the balance item meanwhile: tried again on what it left; a month turned since: closed
 * without giving that month's allowance back (it is void); a lane gone (another closer got
 * there first): left out. Answers how many closed, and `lanesOpen` as the last try found it.
 */
async function closeFrozen(
  head: Key,
  frozen: LaneItem[],
  lanesOpenSeen: number,
  opts: CloseOptions,
): Promise<{ closed: number; lanesOpen: number }> {
  let lanes = frozen;
  let lanesOpen = lanesOpenSeen;
  const voidMonths = new Set<string>();
  for (let round = 0; round < 8 && lanes.length > 0; round++) {
    const at = new Date().toISOString();
    const allowances = allowancesOf(lanes, voidMonths);
    const items: NamedItem[] = [
      {
        name: 'head',
        write: returnLane({
          key: head,
          credits: lanes.reduce((sum, l) => sum + l.credits, 0),
          spent: lanes.reduce((sum, l) => sum + (l.spent ?? 0), 0),
          lanesOpenSeen: lanesOpen,
          lanes: lanes.length,
          noLanesUntil: opts.noLanesUntil,
          at,
        }),
      },
      ...lanes.map((l) => ({ name: `lane ${l.slot}`, write: closeLane(l) })),
      // The balance's last lanes: off the sweeper's list (returnLane's condition makes sure they are the last).
      ...(lanesOpen <= lanes.length ? [{ name: 'unlisted', write: unlistLaneHead(head) }] : []),
      ...[...allowances].map(([key, a]) => ({
        name: `allowance ${key}`,
        write: returnAllowance(a.accountId, a.month, a.allowance, at, opts.limitLanesOffUntil),
      })),
    ];
    const result = await attempt(items, { retryConflicts: false });
    switch (result.kind) {
      case 'committed':
        count('LanesClosed', lanes.length);
        return { closed: lanes.length, lanesOpen: Math.max(0, lanesOpen - lanes.length) };
      case 'conflict':
        await new Promise((r) => setTimeout(r, Math.random() * 20 * 2 ** round));
        break;
      case 'stale': {
        const failed = Object.keys(result.failed);
        const headItem = result.failed.head?.old;
        if (headItem) lanesOpen = rememberBalance(head, headItem).lanesOpen;
        const gone = new Set(failed.filter((n) => n.startsWith('lane ')));
        lanes = lanes.filter((l) => !gone.has(`lane ${l.slot}`));
        for (const n of failed) if (n.startsWith('allowance ')) voidMonths.add(n.slice('allowance '.length));
        if (!headItem && gone.size === 0 && !failed.some((n) => n.startsWith('allowance '))) return throwing(result);
        break;
      }
      case 'refused':
        return throwing(result);
      default:
        return unhandled(result);
    }
  }
  return { closed: 0, lanesOpen };
}

/** The allowance the limited lanes return, by sub-account and month (`sub|month`), but months turned since. */
function allowancesOf(lanes: LaneItem[], voidMonths: Set<string>) {
  const out = new Map<string, { accountId: string; month: string; allowance: number }>();
  for (const l of lanes) {
    if (!l.scope.startsWith('L') || !l.allowance || !l.month) continue;
    const accountId = l.scope.slice(1);
    const key = `${accountId}|${l.month}`;
    if (voidMonths.has(key)) continue;
    const known = out.get(key);
    out.set(key, { accountId, month: l.month, allowance: (known?.allowance ?? 0) + l.allowance });
  }
  return out;
}

async function closeOne(
  head: Key,
  lane: LaneItem,
  lanesOpenSeen: number,
  noLanesUntil?: number,
  giveAllowance = true,
  limitLanesOffUntil?: number,
): Promise<'closed' | 'lane' | 'head'> {
  const at = new Date().toISOString();
  const allowance = giveAllowance && lane.allowance && lane.month && lane.scope.startsWith('L');
  const result = await attempt<'lane' | 'head' | 'unlisted' | 'allowance'>(
    [
      { name: 'lane', write: closeLane(lane) },
      {
        name: 'head',
        write: returnLane({ key: head, credits: lane.credits, spent: lane.spent ?? 0, lanesOpenSeen, noLanesUntil, at }),
      },
      // The balance's last lane: off the sweeper's list (returnLane's condition makes sure it is the last).
      ...(lanesOpenSeen <= 1 ? [{ name: 'unlisted' as const, write: unlistLaneHead(head) }] : []),
      ...(allowance
        ? [
            {
              name: 'allowance' as const,
              write: returnAllowance(lane.scope.slice(1), lane.month as string, lane.allowance as number, at, limitLanesOffUntil),
            },
          ]
        : []),
    ],
    { retryConflicts: false },
  );
  switch (result.kind) {
    case 'committed':
      count('LanesClosed');
      return 'closed';
    case 'conflict':
      return 'lane';
    case 'stale': {
      const { lane: laneMoved, head: headMoved, allowance: monthTurned } = result.failed;
      // The sub-account's month turned since the lane was filled: last month's allowance is void,
      // so the lane closes without giving any back.
      if (monthTurned && !laneMoved && !headMoved)
        return closeOne(head, lane, lanesOpenSeen, noLanesUntil, false, limitLanesOffUntil);
      return headMoved ? 'head' : 'lane';
    }
    case 'refused':
      return throwing(result);
    default:
      return unhandled(result);
  }
}
