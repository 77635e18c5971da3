import { randomUUID } from 'node:crypto';
import { logger } from '#core/logger';
import { LEGACY_LANE_HEADS, legacyLaneHeadShape, moveFence } from '#db/items/balance';
import { laneHeadPartitions, laneHeadShape } from '#db/items/lane-head';
import { queryAll } from '#db/query';
import { itemId } from '#db/read';
import type { Key } from '#db/schema';
import { transact } from '#db/transact';
import { closeLanes } from './lane-close';

/**
 * Lanes: how one busy balance takes thousands of debits a second.
 *
 * A balance item (the pool, a wallet) can take one transaction at a time: DynamoDB cancels a
 * transaction that touches an item another one holds, and every debit of a busy pool would
 * write that one item. So when a container meets contention on a balance, it claims a lane:
 * an item of its own (lane.ts) into which it moves a chunk of the balance, sized to a few
 * seconds of its own use, and from then on debits the lane: [lane −q IF it holds q; entry],
 * one transaction that no other container ever contends with. The balance item is written only
 * when a lane is claimed, refilled or closed, a few times a second however busy the balance. A
 * claim also fills lanes ahead for the next containers, which take them without writing the
 * balance item (debit-ahead.ts).
 *
 * Exactness is kept, not traded:
 * - Credits are never below zero anywhere: a lane debit's condition is the lane's balance, a
 *   refill's is the balance item's. Credits only move between the balance item and its lanes,
 *   in one transaction each way, so the balance is always the item plus its lanes, and equals
 *   the sum of its entries.
 * - No refusal for want of credits that are set aside: a debit that its lane and a refill cannot
 *   cover collects every lane of the balance back into the item (each lane closed exactly as
 *   read) and only then, debiting the item itself, may be refused 402. A collected balance takes
 *   no lanes for a while (`noLanesUntil`): it is nearly empty, and exact single-item debits are
 *   what it needs.
 * - What may debit a balance is checked where it can be: a lane's claim and refills check the
 *   balance's fence, which any change of a sub-account's standing moves (closed, mode or limit
 *   changed); the change then closes the lanes its old standing allowed (`fenceAndClose`).
 *
 * A quiet balance has no lanes, and its debits write the balance item as before, version by
 * version, so its entries carry the exact `balanceAfter`. While lanes are open there is no
 * single running balance to show: entries record `balanceAfter: null`, and the balance read is
 * the item plus its lanes (balances.ts).
 */

/** This container, for its lifetime: lanes are owned by a container. */
export const containerId = randomUUID();

/** What a lane holds for this container, known exactly: only this container debits it. */
export interface LaneHandle {
  slot: number;
  credits: number;
  allowance?: number;
  month?: string;
}

export interface ScopeState {
  lane?: LaneHandle;
  /** Credits/s this container has been taking from the balance (a decaying rate). */
  rate: number;
  rateAt: number;
  /** Contention met lately: claim a lane rather than debit the balance item. */
  hotUntil: number;
  /**
   * A limited sub-account's own meter (its account item) met contention lately: the sub-account
   * itself is busy, so it takes lanes of its own that carry its allowance. Until then, while the
   * pool is busy, it rides the pool's lane and charges its meter debit by debit (debit.ts).
   */
  meterHotUntil: number;
  /**
   * This container's last direct debit of the balance found it moved by another container: its
   * view is likely stale again, so the next debit reads the item before writing (a read, not a
   * failed and billed transaction). Cleared when a read finds the view was right after all.
   */
  readFirst: boolean;
  /** Recent moved versions met on the balance item (epoch ms), to tell a busy balance from a passing race. */
  moved: number[];
  /** No refill ahead of need before then (epoch ms): the last one met a busy or short balance item. */
  refillAheadAfter?: number;
}

const scopes = new Map<string, ScopeState>();

export function scopeState(scopeId: string): ScopeState {
  const known = scopes.get(scopeId);
  if (known) return known;
  const fresh: ScopeState = {
    rate: 0,
    rateAt: Date.now(),
    hotUntil: 0,
    meterHotUntil: 0,
    readFirst: false,
    moved: [],
  };
  scopes.set(scopeId, fresh);
  return fresh;
}

/** Drops what this container holds of a balance's lanes (they were closed, or the fence moved). */
export function forgetLanes(head: Key): void {
  const prefix = `${itemId(head)}|`;
  for (const [id, s] of scopes) if (id.startsWith(prefix)) s.lane = undefined;
}

const RATE_HALF_LIFE_MS = 2_000;

/** Adds a debit to the scope's rate (credits/s), decaying what came before. */
export function noteUse(s: ScopeState, credits: number, nowMs = Date.now()): void {
  const dt = Math.max(1, nowMs - s.rateAt);
  const keep = 0.5 ** (dt / RATE_HALF_LIFE_MS);
  s.rate = s.rate * keep + (credits * 1000 * (1 - keep)) / dt;
  s.rateAt = nowMs;
}

/** How long a busy balance stays in lane mode for this container once contention was met. */
export const HOT_MS = 10_000;

/**
 * Another container moved the balance item under this one: once in a while that is two quiet
 * containers crossing, retried at no cost; this many within a second is a busy balance.
 */
const MOVED_TO_HOT = 3;
export function noteContention(s: ScopeState, nowMs = Date.now()): void {
  s.moved = [...s.moved.filter((t) => t > nowMs - 1_000), nowMs];
  if (s.moved.length >= MOVED_TO_HOT) s.hotUntil = nowMs + HOT_MS;
}
/**
 * A lane is refilled this long (of its container's use) before it runs dry, riding on a debit
 * that goes on alone if the balance item is busy: the debit that finds its lane empty does not
 * wait on a refill that meets the claims and refills of every other container.
 */
export const REFILL_LEAD_MS = 500;

/** A lane unused this long (its container gone or idle) may be swept back into its balance. */
export const LEASE_MS = 60_000;
/** A collected balance takes no lanes for this long (it was short; exact debits of the item suit it). */
export const COLLECTED_MS = 30_000;
/** At most this many lanes per balance. */
export const MAX_SLOTS = 512;

/**
 * How much to move into a lane: a few seconds of this container's use, more as more lanes are
 * open (so the balance item sees a bounded number of refills a second: about
 * `TARGET_REFILLS_PER_SECOND` however many containers), never more than a fair share of what
 * the balance holds, never less than the debit needs.
 */
const TARGET_REFILLS_PER_SECOND = 10;
/**
 * At least this many debits of the size asked go into a lane: a container that is slow on its
 * own (its share of a busy balance is small) still writes the balance item at most once per
 * this many debits (≤ 0.05 writes per debit, the bound for the hottest item). Credits
 * set aside are never lost to a refusal (collected first) and come back within the lease.
 */
export const MIN_DEBITS_PER_CHUNK = 25;
export function chunkFor(s: ScopeState, need: number, head: { balance: number; lanesOpen: number }): number {
  const seconds = Math.min(30, Math.max(3, (head.lanesOpen + 1) / TARGET_REFILLS_PER_SECOND));
  const wanted = Math.max(need * MIN_DEBITS_PER_CHUNK, Math.ceil(s.rate * seconds));
  const share = Math.floor(head.balance / (head.lanesOpen + 2));
  return Math.max(need, Math.min(wanted, share));
}

/** The same for a limited sub-account's monthly allowance, from what the limit has left. */
export function allowanceChunk(creditsChunk: number, need: number, remaining: number): number {
  return Math.max(need, Math.min(creditsChunk, Math.floor(remaining / 2)));
}

/**
 * After a change of what may debit a balance (a sub-account closed, switched, its limit
 * changed): the fence moves (every debit path that checked its facts under the old one reads
 * them again) and the lanes those facts allowed close. Called after the change itself is
 * written, so whatever reads the facts after the fence moved sees the change.
 */
export async function fenceAndClose(head: Key, scopes?: (scope: string) => boolean): Promise<void> {
  await transact([{ name: 'fence', write: moveFence(head, new Date().toISOString()) }]);
  await closeLanes(head, { scopes });
}

/**
 * The sweeper (every minute): lanes whose container stopped using them (gone, or idle past the
 * lease) give their credits back, so a balance that quietened returns to single-item debits and
 * exact running balances, and no credit stays set aside for a container that will not come
 * back. Balances with lanes open are on the lane heads' list (lane-head.ts) while they have
 * any; those listed before that list existed are read where they were (LEGACY_LANE_HEADS).
 */
export async function sweepIdleLanes(): Promise<{ balances: number; closed: number }> {
  const heads = await listedLaneHeads();
  let closed = 0;
  for (const head of heads) closed += await closeLanes(head, { idleOnly: true });
  if (closed) logger.info('idle lanes swept', { balances: heads.length, closed });
  return { balances: heads.length, closed };
}

/** Every balance with lanes open, as the sweeper finds them. */
export async function listedLaneHeads(): Promise<Key[]> {
  const [listed, legacy] = await Promise.all([
    Promise.all(laneHeadPartitions().map((partition) => queryAll({ partition }, laneHeadShape))),
    queryAll({ index: true, partition: LEGACY_LANE_HEADS }, legacyLaneHeadShape),
  ]);
  return [...listed.flat().map((h) => ({ pk: h.headPk, sk: h.headSk })), ...legacy.map((h) => ({ pk: h.pk, sk: h.sk }))];
}
