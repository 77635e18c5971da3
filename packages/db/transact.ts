import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { AppError } from '#core/errors';
import { count } from '#core/metrics';
import { db } from './client';

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/**
 * One item of a transaction, under its own name. What a failed condition on it means is said
 * where the item is built (`onConditionFailed`: a refusal), or else read by name from the
 * result's `failed` (`resultOf`): never by its position, so adding an item can never shift
 * another's interpretation.
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

/** The items whose conditions failed, by name, each with the item as it was (when the write asked for ALL_OLD). */
export type Failed<N extends string> = Partial<Record<N, { old?: Record<string, unknown> }>>;

/**
 * What one transaction came to, the single place a failed write is given its meaning:
 * - `committed`: everything was written;
 * - `refused`: a condition failed on an item that declares what that means (`onConditionFailed`;
 *   the first such item, in the transaction's order), and this is its refusal;
 * - `stale`: conditions failed on items that declare nothing: the caller's reading of them is
 *   out of date, and `failed` hands them back as they are now;
 * - `conflict`: another transaction held one of the items (only with `retryConflicts: false`).
 * Nothing is written unless `committed`. `failed` names every item whose condition failed;
 * `reasons`, every item DynamoDB gave a reason for (a condition, contention).
 */
export type TransactResult<N extends string> =
  | { kind: 'committed' }
  | { kind: 'refused'; error: Error; item: N; failed: Failed<N> }
  | { kind: 'stale'; failed: Failed<N>; reasons: CancelReason[] }
  | { kind: 'conflict'; reasons: CancelReason[] };

/**
 * The result a cancelled transaction stands for, from its cancellation reasons (by item name)
 * and what each item declares a failed condition means; undefined when the cancellation was
 * neither a failed condition nor contention (the caller rethrows it).
 */
export function resultOf<N extends string>(items: NamedItem<N>[], reasons: CancelReason[]): TransactResult<N> | undefined {
  const given = reasons.filter((r) => r.code !== 'None');
  const conditions = given.filter((r) => r.code === 'ConditionalCheckFailed');
  if (conditions.length > 0) {
    const failed: Failed<N> = {};
    for (const r of conditions) failed[r.name as N] ??= { old: r.item };
    for (const r of conditions) {
      const meaning = items.find((i) => i.name === r.name)?.onConditionFailed;
      if (meaning) return { kind: 'refused', error: meaning(r.item), item: r.name as N, failed };
    }
    return { kind: 'stale', failed, reasons: given };
  }
  return given.some((r) => r.code === 'TransactionConflict') ? { kind: 'conflict', reasons: given } : undefined;
}

/**
 * One TransactWriteItems call, answered as a `TransactResult`, so callers tell outcomes apart
 * without a second read. Contention (`TransactionConflict`) is retried with full-jitter backoff
 * a bounded number of times, then answered 503 `try_again`: nothing was written. Only what is
 * no outcome of the transaction (the table refusing the call, a malformed item) is thrown.
 */
export async function attempt<N extends string>(
  items: NamedItem<N>[],
  opts: { clientRequestToken?: string; retryConflicts?: boolean } = {},
): Promise<TransactResult<N>> {
  for (let round = 1; ; round++) {
    try {
      await db.send(
        new TransactWriteCommand({ TransactItems: items.map((i) => i.write), ClientRequestToken: opts.clientRequestToken }),
      );
      return { kind: 'committed' };
    } catch (err) {
      if (!(err instanceof TransactionCanceledException)) throw err;
      const reasons: CancelReason[] = (err.CancellationReasons ?? []).map((r, index) => ({
        name: items[index]?.name ?? `#${index}`,
        code: r.Code ?? 'None',
        item: r.Item ? unmarshall(r.Item as Parameters<typeof unmarshall>[0]) : undefined,
      }));
      const result = resultOf(items, reasons);
      if (!result) throw err;
      if (result.kind !== 'conflict') return result;
      count('TransactionConflicts');
      // A caller with somewhere else to go (a lane instead of a contended balance) is told at once.
      if (opts.retryConflicts === false) return result;
      if (round >= retryPolicy.attempts) {
        throw new AppError('try_again', 'The account is busy; retry the request with the same Idempotency-Key', undefined, {
          retryAfterSeconds: 1,
        });
      }
      const cap = Math.min(retryPolicy.maxDelayMs, retryPolicy.baseDelayMs * 2 ** round);
      await sleep(Math.random() * cap);
    }
  }
}

/**
 * `attempt`, for callers that take a failed write as an exception: a refusal is thrown as its
 * item declares it, other failed conditions as `ConditionsFailed`, contention (with
 * `retryConflicts: false`) as `TransactionConflicted`.
 */
export async function transact<N extends string>(
  items: NamedItem<N>[],
  opts: { clientRequestToken?: string; retryConflicts?: boolean } = {},
): Promise<void> {
  const result = await attempt(items, opts);
  if (result.kind !== 'committed') throwing(result);
}

/** A result its caller has no reading for, thrown as `transact` throws it. */
export function throwing<N extends string>(result: Exclude<TransactResult<N>, { kind: 'committed' }>): never {
  switch (result.kind) {
    case 'refused':
      throw result.error;
    case 'stale':
      throw new ConditionsFailed<N>(result.reasons);
    case 'conflict':
      throw new TransactionConflicted<N>(result.reasons);
  }
}

export type CommittedOrStale<N extends string> = Extract<TransactResult<N>, { kind: 'committed' | 'stale' }>;

/**
 * `attempt`, for a caller that reads a failed condition only as `stale` (what it read moved): a
 * refusal an item declares, or contention, is thrown as `transact` throws it.
 */
export async function committedOrStale<N extends string>(
  items: NamedItem<N>[],
  opts: { clientRequestToken?: string } = {},
): Promise<CommittedOrStale<N>> {
  const result = await attempt(items, opts);
  if (result.kind === 'refused' || result.kind === 'conflict') throwing(result);
  return result;
}

/**
 * The `default` of a switch that reads every kind of result: the compiler proves none is left
 * (the argument is `never`), so a kind added later is a type error at each switch that misses it.
 */
export function unhandled(result: never): never {
  throw new Error(`A transaction result no case reads: ${JSON.stringify(result)}`);
}

/**
 * A conditional write and what goes with it (its audit record), all or nothing: false when the
 * condition of the item named `guard` did not hold, so nothing was written. Any other refusal is
 * thrown as `transact` throws it.
 */
export async function transactIf(guard: string, items: NamedItem[]): Promise<boolean> {
  const result = await attempt(items);
  if (result.kind === 'committed') return true;
  if (result.kind === 'stale' && result.failed[guard]) return false;
  return throwing(result);
}
