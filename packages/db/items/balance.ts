import { table } from '../client';
import { itemShape } from '../item-shape';
import { getItem } from '../read';
import { itemKinds, type Key } from '../schema';
import type { TransactItem } from '../transact';
import { accountPartition } from './account';

/** A credit balance: the agency's shared pool, or a reselling sub-account's own wallet. */
export interface BalanceItem {
  kind: typeof itemKinds.balance;
  agencyId: string;
  balance: number;
  /** Bumped by every move: the optimistic-concurrency token each entry's balanceAfter is computed from. */
  version: number;
  /** Lifetime credits in and out. */
  purchased?: number;
  consumed?: number;
  /** Credits a Stripe refund took back out of the balance. */
  refunded?: number;
  updatedAt: string;
  /**
   * Lanes (lane.ts): slots numbered so far, lanes open now, and the fence a change of what may
   * debit this balance moves (a sub-account closed or switched: every debit path re-reads).
   * While a lane is open, credits are set aside in it: the exact balance is this item's plus
   * its lanes', and debits of this item itself are refused (they would see only part of it).
   */
  laneSlots?: number;
  lanesOpen?: number;
  fence?: number;
  /** Epoch ms: no lane may be claimed before then (the balance ran short and its lanes were collected). */
  noLanesUntil?: number;
  /**
   * The slots of the lanes the last claim filled ahead (lanes.ts), and a count of such claims:
   * a claim is made only on the view of the last one, so containers that need lanes at once
   * take those lanes instead of each claiming on this item.
   */
  aheadSlots?: number[];
  aheadSeq?: number;
}
/** A balance never credited may hold only the fence `moveFence` gave it: no kind, no balance, no version yet. */
export const balanceShape = itemShape<BalanceItem>(
  itemKinds.balance,
  {},
  {
    agencyId: 'string',
    balance: 'number',
    version: 'number',
    lanesOpen: 'number',
    fence: 'number',
    noLanesUntil: 'number',
    laneSlots: 'number',
    aheadSlots: 'array',
    aheadSeq: 'number',
  },
  { kindless: true },
);

export type BalanceKind = 'pool' | 'wallet';

/**
 * The most credits one balance may hold: far below 2^53 (so every sum of entries stays an exact
 * JavaScript number) and far above any real agency's needs. Enforced by the credit's own write
 * condition, so no race can pass it.
 */
export const MAX_BALANCE = 1_000_000_000_000;

export const poolKey = (agencyId: string): Key => ({ pk: accountPartition(agencyId), sk: 'POOL' });
export const walletKey = (subAccountId: string): Key => ({ pk: accountPartition(subAccountId), sk: 'WALLET' });

export const getBalance = (key: Key) => getItem(key, balanceShape);

export interface BalanceMove {
  key: Key;
  agencyId: string;
  /** The balance and version this move was computed from. */
  from: { balance: number; version: number };
  /**
   * A debit of this item itself (not through a lane): only while no lane is open, and under the
   * fence its account facts were checked against (lanes.ts). Credits and the Stripe side's moves
   * leave both out.
   */
  direct?: { fence: number };
  /** Signed change. */
  delta: number;
  at: string;
  /**
   * The lifetime counter the move adds to: `purchased` for credits in, `consumed` for credits out,
   * unless said otherwise. A counter against the move's direction is taken down instead: credits
   * that come back after a refund or dispute (counter `refunded`) lower `refunded`.
   */
  counter?: BalanceCounter;
}

export type BalanceCounter = 'purchased' | 'consumed' | 'refunded';

/** What the move adds to its lifetime counter: its size, negative when the counter runs against its direction. */
function counterAmount(move: BalanceMove): number {
  const credit = move.delta > 0;
  const counter = move.counter ?? (credit ? 'purchased' : 'consumed');
  const along = credit ? counter === 'purchased' : counter !== 'purchased';
  return along ? Math.abs(move.delta) : -Math.abs(move.delta);
}

/**
 * Moves a balance by `delta` if it is still at `from.version`. The version pins the balance
 * an entry's balanceAfter was computed from; the `balance >= amount` check (debits) and the
 * `balance <= MAX_BALANCE - amount` check (credits) state the invariants themselves, so no
 * stale version can ever overdraw or overfill. A debit never creates the item (on a missing
 * balance both checks fail); the first credit does (its amount alone is below the ceiling:
 * the caller checks that, see `commit`).
 */
export function moveBalance(move: BalanceMove): TransactItem {
  const credit = move.delta > 0;
  const first = credit && move.from.version === 0;
  return {
    Update: {
      TableName: table(),
      Key: move.key,
      UpdateExpression:
        'SET #balance = :next, #version = :nextVersion, #kind = :kind, #agencyId = :agencyId, #updatedAt = :now ADD #total :counted',
      ConditionExpression: [
        !credit
          ? '#version = :version AND #balance >= :amount'
          : first
            ? 'attribute_not_exists(#version)'
            : '#version = :version AND #balance <= :room',
        ...(move.direct ? [noLanes, fenced(move.direct.fence)] : []),
      ].join(' AND '),
      // Several of these names are DynamoDB reserved words (e.g. `consumed`): always alias.
      ExpressionAttributeNames: {
        '#balance': 'balance',
        '#version': 'version',
        '#kind': 'kind',
        '#agencyId': 'agencyId',
        '#updatedAt': 'updatedAt',
        '#total': move.counter ?? (credit ? 'purchased' : 'consumed'),
        ...(move.direct ? { '#lanesOpen': 'lanesOpen', '#fence': 'fence' } : {}),
      },
      ExpressionAttributeValues: {
        ':next': move.from.balance + move.delta,
        ':nextVersion': move.from.version + 1,
        ':kind': itemKinds.balance,
        ':agencyId': move.agencyId,
        ':now': move.at,
        ':counted': counterAmount(move),
        ...(credit ? {} : { ':amount': -move.delta }),
        ...(move.direct ? { ':zero': 0, ':fence': move.direct.fence } : {}),
        ...(first ? {} : { ':version': move.from.version }),
        ...(credit && !first ? { ':room': MAX_BALANCE - move.delta } : {}),
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/** The aliases an expression uses (DynamoDB refuses a request that names one it does not). */
const usedNames = (names: Record<string, string>, ...expressions: string[]) =>
  Object.fromEntries(Object.entries(names).filter(([alias]) => expressions.some((e) => new RegExp(`${alias}\\b`).test(e))));

/** The lanes' attributes on a balance item, aliased (names DynamoDB may reserve). */
const laneNames = {
  '#lanesOpen': 'lanesOpen',
  '#laneSlots': 'laneSlots',
  '#fence': 'fence',
  '#noLanesUntil': 'noLanesUntil',
  '#aheadSlots': 'aheadSlots',
  '#aheadSeq': 'aheadSeq',
};
/** No lane is open: every credit of the balance is in this item. */
const noLanes = '(attribute_not_exists(#lanesOpen) OR #lanesOpen = :zero)';
/** The fence is where the caller saw it (absent counts as 0). */
const fenced = (fence: number) => (fence === 0 ? '(attribute_not_exists(#fence) OR #fence = :fence)' : '#fence = :fence');

/**
 * Where balances with lanes open were listed before they had a list of their own (lane-head.ts):
 * on gsi1, the balance item itself, so every write of it was an index write on this one key.
 * Balances listed so before the change stay there until their last lane closes (which takes
 * them off); the sweeper reads them there until then.
 */
export const LEGACY_LANE_HEADS = 'LANEHEADS';
/** A balance as the legacy list holds it: its key is what the sweeper needs. */
export const legacyLaneHeadShape = itemShape<BalanceItem & Key>(
  itemKinds.balance,
  { pk: 'string', sk: 'string' },
  {},
  { kindless: true },
);

/**
 * The slot count grows a page at a time: every claimer of a new slot in the same page writes
 * the same count, so containers turning to lanes at once, each in a slot of its own, do not
 * fail on each other's count (a count of exactly slot + 1 refused every claimer of a lower
 * slot that was a moment late). A page's unused slots are free slots for the next claims.
 */
export const SLOT_PAGE = 8;
export const slotCountAfter = (slot: number): number => Math.ceil((slot + 1) / SLOT_PAGE) * SLOT_PAGE;

export interface LaneFunding {
  key: Key;
  /** Credits moved into the lane. */
  credits: number;
  /** The fence the claimer saw (its account facts are valid under it). */
  fence: number;
  /**
   * New lanes (`lanes`, default 1): lanesOpen + lanes; when they take new slots, the count grows
   * to the end of the highest one's page (`slotCountAfter`).
   */
  opens?: { newSlotAfter?: number; lanes?: number };
  /**
   * A claim (lanes.ts): made on the view of the last claim only (`seenSeq`, its `aheadSeq`), and
   * naming the lanes it fills ahead (none: the last claim's stay named).
   */
  claim?: { seenSeq: number; aheadSlots: number[] };
  at: string;
  nowMs: number;
}

/**
 * Credits from the balance item into a lane (a claim or a refill): never below zero, only under
 * the fence the claimer saw, not while the balance is collected (`noLanesUntil`). Not version
 * pinned: a lane's debits record no balanceAfter, so refills need not run in version order; the
 * version still moves, so a direct debit computed before it is retried.
 */
export function fundLane(f: LaneFunding): TransactItem {
  const opening = f.opens !== undefined;
  const newSlot = f.opens?.newSlotAfter;
  const sets = ['#balance = #balance - :c', '#updatedAt = :now'];
  const adds = ['#version :one'];
  if (opening) adds.push('#lanesOpen :opened');
  if (newSlot !== undefined) sets.push('#laneSlots = :slotCount');
  const claim = f.claim;
  if (claim) {
    adds.push('#aheadSeq :one');
    if (claim.aheadSlots.length) sets.push('#aheadSlots = :aheadSlots');
  }
  const slotCondition =
    newSlot === undefined
      ? []
      : // The count only grows (every lane's slot stays below it); a slot already inside it is
        // taken as a free one (the lane item's own condition keeps a slot to one lane).
        ['(attribute_not_exists(#laneSlots) OR #laneSlots <= :slotCount)'];
  const update = `SET ${sets.join(', ')} ADD ${adds.join(', ')}`;
  const condition = [
    '#balance >= :c',
    fenced(f.fence),
    '(attribute_not_exists(#noLanesUntil) OR #noLanesUntil < :nowMs)',
    ...slotCondition,
    ...(claim ? [claim.seenSeq === 0 ? '(attribute_not_exists(#aheadSeq) OR #aheadSeq = :seq)' : '#aheadSeq = :seq'] : []),
  ].join(' AND ');
  return {
    Update: {
      TableName: table(),
      Key: f.key,
      UpdateExpression: update,
      ConditionExpression: condition,
      ExpressionAttributeNames: usedNames(
        { ...laneNames, '#balance': 'balance', '#version': 'version', '#updatedAt': 'updatedAt' },
        update,
        condition,
      ),
      ExpressionAttributeValues: {
        ':c': f.credits,
        ':one': 1,
        ':now': f.at,
        ':nowMs': f.nowMs,
        ':fence': f.fence,
        ...(opening ? { ':opened': f.opens?.lanes ?? 1 } : {}),
        ...(newSlot === undefined ? {} : { ':slotCount': slotCountAfter(newSlot) }),
        ...(claim
          ? {
              ':seq': claim.seenSeq,
              ...(claim.aheadSlots.length ? { ':aheadSlots': claim.aheadSlots } : {}),
            }
          : {}),
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

export interface LaneReturn {
  key: Key;
  /** Credits the closed lane held, and what its debits consumed while open (added to `consumed`). */
  credits: number;
  spent: number;
  /** lanesOpen as read: the close takes it down by `lanes` (1 when absent); the last close takes the balance off the sweeper's lists. */
  lanesOpenSeen: number;
  /** How many lanes the close returns (`credits` and `spent` are their sums). */
  lanes?: number;
  /** Set `noLanesUntil` (a collect: the balance ran short) until then, epoch ms. */
  noLanesUntil?: number;
  at: string;
}

/** Closed lanes' credits back into the balance item, in the transaction that deletes the lanes. */
export function returnLane(r: LaneReturn): TransactItem {
  const open = Math.max(0, r.lanesOpenSeen - (r.lanes ?? 1));
  const last = open === 0;
  const sets = ['#balance = #balance + :c', '#lanesOpen = :open', '#updatedAt = :now'];
  if (r.noLanesUntil !== undefined) sets.push('#noLanesUntil = :until');
  // The last close also takes a balance off the legacy list, if it is there (LEGACY_LANE_HEADS).
  const update = `SET ${sets.join(', ')} ADD #version :one, #consumed :spent${last ? ' REMOVE gsi1pk, gsi1sk' : ''}`;
  return {
    Update: {
      TableName: table(),
      Key: r.key,
      UpdateExpression: update,
      ConditionExpression: '#lanesOpen = :seen',
      ExpressionAttributeNames: usedNames(
        { ...laneNames, '#balance': 'balance', '#version': 'version', '#updatedAt': 'updatedAt', '#consumed': 'consumed' },
        update,
      ),
      ExpressionAttributeValues: {
        ':c': r.credits,
        ':spent': r.spent,
        ':open': open,
        ':seen': r.lanesOpenSeen,
        ':one': 1,
        ':now': r.at,
        ...(r.noLanesUntil === undefined ? {} : { ':until': r.noLanesUntil }),
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/**
 * Moves the fence: every lane claimed under the old one must close, every direct debit re-reads.
 * A balance never credited yet is created with just its fence (its first credit then finds no
 * version and starts it), so a debit on hints read before the move can never pass.
 */
export function moveFence(key: Key, at: string): TransactItem {
  return {
    Update: {
      TableName: table(),
      Key: key,
      UpdateExpression: 'SET #updatedAt = :now ADD #fence :one',
      ExpressionAttributeNames: { '#updatedAt': 'updatedAt', '#fence': 'fence' },
      ExpressionAttributeValues: { ':one': 1, ':now': at },
    },
  };
}
