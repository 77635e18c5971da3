import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { AppError } from '../core/errors';
import { db } from './client';

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export interface CancelReason {
  index: number;
  code: string;
  /** The item as it was, when the failing check asked for ALL_OLD. */
  item?: Record<string, unknown>;
}

/** A transaction DynamoDB refused because a condition failed; `reasons` says which items. */
export class ConditionsFailed extends Error {
  constructor(readonly reasons: CancelReason[]) {
    super(`Transaction conditions failed: ${reasons.map((r) => `${r.index}:${r.code}`).join(', ')}`);
    this.name = 'ConditionsFailed';
  }
  failed(index: number): CancelReason | undefined {
    return this.reasons.find((r) => r.index === index && r.code === 'ConditionalCheckFailed');
  }
}

export const retryPolicy = { attempts: 4, baseDelayMs: 20, maxDelayMs: 400 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One TransactWriteItems call. A failed condition becomes `ConditionsFailed` carrying the
 * cancellation reasons (with the old item where asked), so callers tell outcomes apart
 * without a second read. Contention (`TransactionConflict`) is retried with full-jitter
 * backoff a bounded number of times, then answered 503 `try_again`: nothing was written.
 */
export async function transact(items: TransactItem[], clientRequestToken?: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await db.send(new TransactWriteCommand({ TransactItems: items, ClientRequestToken: clientRequestToken }));
      return;
    } catch (err) {
      if (!(err instanceof TransactionCanceledException)) throw err;
      const reasons: CancelReason[] = (err.CancellationReasons ?? []).map((r, index) => ({
        index,
        code: r.Code ?? 'None',
        item: r.Item ? unmarshallLoose(r.Item) : undefined,
      }));
      const conflict = reasons.some((r) => r.code === 'TransactionConflict');
      const conditionFailed = reasons.some((r) => r.code === 'ConditionalCheckFailed');
      if (conditionFailed) throw new ConditionsFailed(reasons.filter((r) => r.code !== 'None'));
      if (!conflict) throw err;
      if (attempt >= retryPolicy.attempts) {
        throw new AppError('try_again', 'The account is busy; retry the request with the same Idempotency-Key', undefined, {
          'retry-after': '1',
        });
      }
      const cap = Math.min(retryPolicy.maxDelayMs, retryPolicy.baseDelayMs * 2 ** attempt);
      await sleep(Math.random() * cap);
    }
  }
}

function unmarshallLoose(item: Record<string, unknown>): Record<string, unknown> {
  return unmarshall(item as Parameters<typeof unmarshall>[0]);
}
