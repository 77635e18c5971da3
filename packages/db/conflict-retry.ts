import type { DynamoDBClient, ServiceInputTypes, ServiceOutputTypes } from '@aws-sdk/client-dynamodb';
import type { InitializeMiddleware } from '@smithy/types';
import { count } from '#core/metrics';

/**
 * A single-item write (PutItem, UpdateItem, DeleteItem) to an item a transaction holds is
 * refused with `TransactionConflictException` (developerguide/transaction-apis.html). Nothing
 * was written, so trying the same write again is exactly a later first attempt; the SDK's
 * standard retries do not count it as retryable, so this does, a bounded number of times with
 * full-jitter backoff. On the ledger it happens when two requests with one idempotency key
 * race (one commits the entry while the other records its refusal under the key), and on
 * items the rollups update while a debit's transaction holds them. When the tries run out
 * the error goes on to the caller (an HTTP function answers it 503 `try_again`).
 */
export const conflictRetryPolicy = { attempts: 4, baseDelayMs: 10, maxDelayMs: 160 };
export const conflictRetryStats = { retried: 0 };

export function retryingConflicts<C extends DynamoDBClient>(client: C): C {
  const retrying: InitializeMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next) => async (args) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await next(args);
      } catch (err) {
        if ((err as Error).name !== 'TransactionConflictException' || attempt >= conflictRetryPolicy.attempts) throw err;
        conflictRetryStats.retried++;
        count('SingleWriteConflicts');
        const cap = Math.min(conflictRetryPolicy.maxDelayMs, conflictRetryPolicy.baseDelayMs * 2 ** attempt);
        await new Promise((r) => setTimeout(r, Math.random() * cap));
      }
    }
  };
  client.middlewareStack.add(
    retrying,
    // Around the SDK's own retries (step `finalizeRequest`), so each try here is a fresh call.
    { step: 'initialize', name: 'retryTransactionConflicts' },
  );
  return client;
}
