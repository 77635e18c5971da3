import { table } from '../client';
import { getItem } from '../read';
import { itemKinds, type Key } from '../schema';
import type { TransactItem } from '../transact';

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
}

export type BalanceKind = 'pool' | 'wallet';

/**
 * The most credits one balance may hold: far below 2^53 (so every sum of entries stays an exact
 * JavaScript number) and far above any real agency's needs. Enforced by the credit's own write
 * condition, so no race can pass it.
 */
export const MAX_BALANCE = 1_000_000_000_000;

export const poolKey = (agencyId: string): Key => ({ pk: `ACCOUNT#${agencyId}`, sk: 'POOL' });
export const walletKey = (subAccountId: string): Key => ({ pk: `ACCOUNT#${subAccountId}`, sk: 'WALLET' });

export const getBalance = (key: Key) => getItem<BalanceItem>(key);

export interface BalanceMove {
  key: Key;
  agencyId: string;
  /** The balance and version this move was computed from. */
  from: { balance: number; version: number };
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
      ConditionExpression: !credit
        ? '#version = :version AND #balance >= :amount'
        : first
          ? 'attribute_not_exists(pk)'
          : '#version = :version AND #balance <= :room',
      // Several of these names are DynamoDB reserved words (e.g. `consumed`): always alias.
      ExpressionAttributeNames: {
        '#balance': 'balance',
        '#version': 'version',
        '#kind': 'kind',
        '#agencyId': 'agencyId',
        '#updatedAt': 'updatedAt',
        '#total': move.counter ?? (credit ? 'purchased' : 'consumed'),
      },
      ExpressionAttributeValues: {
        ':next': move.from.balance + move.delta,
        ':nextVersion': move.from.version + 1,
        ':kind': itemKinds.balance,
        ':agencyId': move.agencyId,
        ':now': move.at,
        ':counted': counterAmount(move),
        ...(credit ? {} : { ':amount': -move.delta }),
        ...(first ? {} : { ':version': move.from.version }),
        ...(credit && !first ? { ':room': MAX_BALANCE - move.delta } : {}),
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}
