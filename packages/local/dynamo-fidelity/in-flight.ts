/**
 * The items writes hold right now. DynamoDB's rules (developerguide/transaction-apis.html,
 * "Transaction conflict handling in DynamoDB"):
 * - an item within a TransactWriteItems that is part of another ongoing TransactWriteItems →
 *   the later transaction is cancelled (TransactionCanceledException, reason TransactionConflict);
 * - a PutItem, UpdateItem or DeleteItem for an item that an ongoing TransactWriteItems includes →
 *   the single write fails with TransactionConflictException;
 * - an item within a TransactGetItems that is part of an ongoing TransactWriteItems,
 *   BatchWriteItem, PutItem, UpdateItem or DeleteItem → the TransactGetItems is cancelled;
 * - a GetItem never conflicts ("both operations can succeed").
 * The same page lists a single write "conflicting with" an ongoing transaction without saying
 * which side fails when the single write came first; here the transaction arriving while a
 * single write holds the item is the one cancelled (issue 19's reading).
 */
export type Holder = 'transaction' | 'single';

export function inFlight() {
  const held = new Map<string, { transaction: number; single: number }>();
  return {
    /** The ids a transaction (write or get) may not take now: held by any write. */
    blockedForTransaction: (ids: string[]) => ids.filter((id) => held.has(id)),
    /** Whether a single write to `id` conflicts: a transaction holds it. */
    blockedForSingle: (id: string) => (held.get(id)?.transaction ?? 0) > 0,
    /** Holds the items until the returned release is called (once). */
    hold(ids: string[], by: Holder): () => void {
      for (const id of ids) {
        const h = held.get(id) ?? { transaction: 0, single: 0 };
        h[by]++;
        held.set(id, h);
      }
      let released = false;
      return () => {
        if (released) return;
        released = true;
        for (const id of ids) {
          const h = held.get(id);
          if (!h) continue;
          h[by]--;
          if (h.transaction + h.single <= 0) held.delete(id);
        }
      };
    },
    size: () => held.size,
  };
}
