import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { AppError } from '../core/errors';
import { count } from '../core/metrics';
import { db } from './client';

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/**
 * One item of a transaction, under its own name. What a failed condition on it means is said
 * where the item is built (`onConditionFailed`), or read by name from `ConditionsFailed`: never
 * by its position, so adding an item can never shift another's interpretation.
 */
export interface NamedItem<N extends string = string> {
  name: N;
  write: TransactItem;
  /** The refusal a failed condition on this item stands for (given the item as it was, when asked for). */
  onConditionFailed?: (old: Record<string, unknown> | undefined) => Error;
}

export interface CancelReason {
  name: string;
  code: string;
  /** The item as it was, when the write asked for ALL_OLD. */
  item?: Record<string, unknown>;
}

/** A transaction DynamoDB refused because a condition failed; `failed(name)` says which items. */
export class ConditionsFailed<N extends string = string> extends Error {
  constructor(readonly reasons: CancelReason[]) {
    super(`Transaction conditions failed: ${reasons.map((r) => `${r.name}:${r.code}`).join(', ')}`);
    this.name = 'ConditionsFailed';
  }
  failed(name: N): CancelReason | undefined {
    return this.reasons.find((r) => r.name === name && r.code === 'ConditionalCheckFailed');
  }
}

/** A transaction cancelled because another one held one of its items (`retryConflicts: false`); nothing was written. */
export class TransactionConflicted<N extends string = string> extends Error {
  constructor(readonly reasons: CancelReason[]) {
    super(`Transaction conflicted: ${reasons.map((r) => `${r.name}:${r.code}`).join(', ')}`);
    this.name = 'TransactionConflicted';
  }
  on(name: N): boolean {
    return this.reasons.some((r) => r.name === name && r.code === 'TransactionConflict');
  }
}

export const retryPolicy = { attempts: 4, baseDelayMs: 20, maxDelayMs: 400 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One TransactWriteItems call. A failed condition becomes the refusal its item names, or else
 * `ConditionsFailed` carrying the cancellation reasons by item name (with the old item where
 * asked), so callers tell outcomes apart without a second read. Contention
 * (`TransactionConflict`) is retried with full-jitter backoff a bounded number of times, then
 * answered 503 `try_again`: nothing was written.
 */
export async function transact<N extends string>(
  items: NamedItem<N>[],
  opts: { clientRequestToken?: string; retryConflicts?: boolean } = {},
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await db.send(
        new TransactWriteCommand({ TransactItems: items.map((i) => i.write), ClientRequestToken: opts.clientRequestToken }),
      );
      return;
    } catch (err) {
      if (!(err instanceof TransactionCanceledException)) throw err;
      const reasons: CancelReason[] = (err.CancellationReasons ?? []).map((r, index) => ({
        name: items[index]?.name ?? `#${index}`,
        code: r.Code ?? 'None',
        item: r.Item ? unmarshall(r.Item as Parameters<typeof unmarshall>[0]) : undefined,
      }));
      if (reasons.some((r) => r.code === 'ConditionalCheckFailed')) {
        for (const reason of reasons) {
          const meaning =
            reason.code === 'ConditionalCheckFailed' && items.find((i) => i.name === reason.name)?.onConditionFailed;
          if (meaning) throw meaning(reason.item);
        }
        throw new ConditionsFailed<N>(reasons.filter((r) => r.code !== 'None'));
      }
      if (!reasons.some((r) => r.code === 'TransactionConflict')) throw err;
      count('TransactionConflicts');
      // A caller with somewhere else to go (a lane instead of a contended balance) is told at once.
      if (opts.retryConflicts === false) throw new TransactionConflicted(reasons.filter((r) => r.code !== 'None'));
      if (attempt >= retryPolicy.attempts) {
        throw new AppError('try_again', 'The account is busy; retry the request with the same Idempotency-Key', undefined, {
          retryAfterSeconds: 1,
        });
      }
      const cap = Math.min(retryPolicy.maxDelayMs, retryPolicy.baseDelayMs * 2 ** attempt);
      await sleep(Math.random() * cap);
    }
  }
}

/**
 * A conditional write and what goes with it (its audit record), all or nothing: false when the
 * condition of the item named `guard` did not hold, so nothing was written. Any other refusal is
 * thrown as `transact` throws it.
 */
export async function transactIf(guard: string, items: NamedItem[]): Promise<boolean> {
  try {
    await transact(items);
    return true;
  } catch (err) {
    if (err instanceof ConditionsFailed && err.failed(guard)) return false;
    throw err;
  }
}
