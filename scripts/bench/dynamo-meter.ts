import { type DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';

/** What one container sent to DynamoDB, as AWS would bill it. */
export interface DynamoCounts {
  /** Every command sent, including attempts answered by an injected conflict (on AWS, real calls). */
  calls: number;
  /** TransactWriteItems attempts. */
  transactions: number;
  /** Attempts cancelled by a failed condition (a stale version or hint): billed as writes. */
  failedConditions: number;
  /** Attempts cancelled by `TransactionConflict`, real or injected. */
  conflicts: number;
  /** Of those, how many this meter raised itself. */
  injected: number;
}

export const zeroCounts = (): DynamoCounts => ({ calls: 0, transactions: 0, failedConditions: 0, conflicts: 0, injected: 0 });

export function addCounts(a: DynamoCounts, b: DynamoCounts): DynamoCounts {
  return {
    calls: a.calls + b.calls,
    transactions: a.transactions + b.transactions,
    failedConditions: a.failedConditions + b.failedConditions,
    conflicts: a.conflicts + b.conflicts,
    injected: a.injected + b.injected,
  };
}

/**
 * The conflict DynamoDB raises when another transaction holds one of the items (here the
 * balance, item 0), as the concurrency tests inject it: DynamoDB Local never raises it.
 */
export function injectedConflict(itemCount: number): TransactionCanceledException {
  return new TransactionCanceledException({
    message: 'Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict]',
    $metadata: {},
    CancellationReasons: Array.from({ length: Math.max(1, itemCount) }, (_, i) =>
      i === 0 ? { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' } : { Code: 'None' },
    ),
  });
}

/**
 * Counts what `client` sends (one SDK middleware, as the bench and tests add them) and, at
 * `conflictRate` (0–1) of TransactWriteItems attempts, answers `TransactionConflict` instead
 * of sending it. `take()` returns the counts since the last take and starts again at zero.
 */
export function meterDynamo(client: DynamoDBClient, random: () => number = Math.random) {
  let counts = zeroCounts();
  let conflictRate = 0;
  const name = 'bench-dynamo-meter';
  client.middlewareStack.add(
    (next, context) => async (args) => {
      counts.calls++;
      if (context.commandName !== 'TransactWriteItemsCommand') return next(args);
      counts.transactions++;
      try {
        if (conflictRate > 0 && random() < conflictRate) {
          counts.injected++;
          const items = (args.input as { TransactItems?: unknown[] }).TransactItems?.length ?? 1;
          throw injectedConflict(items);
        }
        return await next(args);
      } catch (err) {
        if (err instanceof TransactionCanceledException) {
          const codes = (err.CancellationReasons ?? []).map((r) => r.Code);
          if (codes.includes('ConditionalCheckFailed')) counts.failedConditions++;
          else if (codes.includes('TransactionConflict')) counts.conflicts++;
        }
        throw err;
      }
    },
    { step: 'initialize', name },
  );
  return {
    setConflictRate(rate: number) {
      conflictRate = rate;
    },
    /** The counts since the last take, left running. */
    peek(): DynamoCounts {
      return { ...counts };
    },
    take(): DynamoCounts {
      const out = counts;
      counts = zeroCounts();
      return out;
    },
    remove() {
      client.middlewareStack.remove(name);
    },
  };
}
