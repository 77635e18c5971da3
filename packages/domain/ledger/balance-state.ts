import { getItem } from '../../db/accounts';
import type { Key } from '../../db/schema';

/**
 * What this container last saw of each balance item: a hint for optimistic concurrency, never
 * a reason to refuse. The write's condition (version and balance) is the only judge; when it
 * fails, DynamoDB hands back the item as it is (ReturnValuesOnConditionCheckFailure) and the
 * hint is refreshed from that, with no extra read.
 */
export interface BalanceState {
  balance: number;
  version: number;
}

const hints = new Map<string, BalanceState>();
const keyOf = (k: Key) => `${k.pk}|${k.sk}`;

export async function balanceHint(key: Key): Promise<BalanceState> {
  const cached = hints.get(keyOf(key));
  if (cached) return cached;
  const item = await getItem<BalanceState>(key);
  const state = { balance: item?.balance ?? 0, version: item?.version ?? 0 };
  hints.set(keyOf(key), state);
  return state;
}

export function rememberBalance(key: Key, item: Partial<BalanceState> | undefined): void {
  hints.set(keyOf(key), { balance: item?.balance ?? 0, version: item?.version ?? 0 });
}

/**
 * Runs moves on the same balance one after another within this process, so concurrent requests
 * in one container queue instead of invalidating each other's version. Across containers the
 * optimistic check still decides; this only removes self-inflicted conflicts.
 */
const tails = new Map<string, Promise<void>>();
export async function oneAtATime<T>(key: Key, fn: () => Promise<T>): Promise<T> {
  const id = keyOf(key);
  const previous = tails.get(id) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => (release = resolve));
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
