import { BoundedMap } from '#core/bounded-map';
import { getBalance } from '#db/items/balance';
import { itemId } from '#db/read';
import type { Key } from '#db/schema';

/**
 * What this container last saw of each balance item: a hint for optimistic concurrency, never
 * a reason to refuse. The write's condition (version and balance) is the only judge; when it
 * fails, DynamoDB hands back the item as it is (ReturnValuesOnConditionCheckFailure) and the
 * hint is refreshed from that, with no extra read.
 */
export interface BalanceState {
  balance: number;
  version: number;
  /** Lanes (lanes.ts): open now, slots numbered so far, the fence, and no lanes before (epoch ms). */
  lanesOpen: number;
  laneSlots: number;
  fence: number;
  noLanesUntil: number;
  /** The lanes the last claim filled ahead, and how many claims there have been (debit-ahead.ts). */
  aheadSlots: number[];
  aheadSeq: number;
}

/** The balance item as stored (or as a failed condition hands it back): any of its fields may be missing. */
export type StoredState = Partial<BalanceState>;
const stateOf = (item: StoredState | undefined): BalanceState => ({
  balance: item?.balance ?? 0,
  version: item?.version ?? 0,
  lanesOpen: item?.lanesOpen ?? 0,
  laneSlots: item?.laneSlots ?? 0,
  fence: item?.fence ?? 0,
  noLanesUntil: item?.noLanesUntil ?? 0,
  aheadSlots: Array.isArray(item?.aheadSlots) ? item.aheadSlots : [],
  aheadSeq: item?.aheadSeq ?? 0,
});

/** Enough for every balance a container plausibly serves; a forgotten hint costs one read. */
const MAX_HINTS = 10_000;
const hints = new BoundedMap<string, BalanceState>(MAX_HINTS);

export async function balanceHint(key: Key): Promise<BalanceState> {
  const cached = hints.get(itemId(key));
  if (cached) return cached;
  const state = stateOf(await getBalance(key));
  hints.set(itemId(key), state);
  return state;
}

/** Whether this container knows the balance already (a hint read earlier), without reading it. */
export const balanceKnown = (key: Key): boolean => hints.has(itemId(key));

/** The balance as a write just found it (a failed condition's ALL_OLD) or left it; undefined: it does not exist. */
export function rememberBalance(key: Key, item: StoredState | undefined): BalanceState {
  const state = stateOf(item);
  hints.set(itemId(key), state);
  return state;
}

/** After a write of ours moved the balance: what it is now, without reading it. */
export function updateBalanceHint(key: Key, change: Partial<BalanceState>): void {
  const id = itemId(key);
  const known = hints.get(id);
  if (known) hints.set(id, { ...known, ...change });
}

/** Forget the balance: the next use reads it. */
export function forgetBalance(key: Key): void {
  hints.delete(itemId(key));
}

/**
 * Runs moves on the same balance one after another within this process, so concurrent requests
 * in one container queue instead of invalidating each other's version. Across containers the
 * optimistic check still decides; this only removes self-inflicted conflicts.
 */
const tails = new Map<string, Promise<void>>();
export async function oneAtATime<T>(key: Key, fn: () => Promise<T>): Promise<T> {
  const id = itemId(key);
  const previous = tails.get(id) ?? Promise.resolve();
  let release = () => {};
  const mine = new Promise<void>((resolve) => {
    release = resolve;
  });
  const tail = previous.then(() => mine);
  tails.set(id, tail);
  await previous;
  try {
    return await fn();
  } finally {
    release();
    if (tails.get(id) === tail) tails.delete(id);
  }
}

/**
 * `oneAtATime` on several balances (a transfer's two sides), taken in one global order (by
 * item id) so two transfers, or a transfer and a debit, can never wait on each other in a cycle.
 */
export function oneAtATimeOn<T>(keys: Key[], fn: () => Promise<T>): Promise<T> {
  const sorted = [...keys].sort((a, b) => (itemId(a) < itemId(b) ? -1 : itemId(a) > itemId(b) ? 1 : 0));
  return sorted.reduceRight<() => Promise<T>>((inner, key) => () => oneAtATime(key, inner), fn)();
}
