import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

export interface TransactionCounts {
  /** TransactWriteItems calls sent (each retry is one more). */
  attempts: number;
  /** Of those, cancelled because an item's condition failed. */
  conditionFailures: number;
  /** Of those, cancelled by another transaction or write on an item (TransactionConflict). */
  conflicts: number;
}

/**
 * Counts this process's transactions as DynamoDB answered them, from outside the code under
 * test (an SDK middleware on the handlers' client): a test proves a race really happened (a
 * guard cancelled the write) or that a batch took one transaction, not many. Call once per
 * test file; the counts only grow, so compare before and after.
 */
export function meterTransactions(client: DynamoDBClient): TransactionCounts {
  const counts: TransactionCounts = { attempts: 0, conditionFailures: 0, conflicts: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'TransactWriteItemsCommand') return next(args);
      counts.attempts++;
      try {
        return await next(args);
      } catch (err) {
        const reasons = (err as { name?: string; CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
        const codes = new Set(reasons.map((r) => r.Code));
        if (codes.has('ConditionalCheckFailed')) counts.conditionFailures++;
        else if (codes.has('TransactionConflict')) counts.conflicts++;
        throw err;
      }
    },
    { step: 'initialize', name: 'test-transaction-meter', override: true },
  );
  return counts;
}
