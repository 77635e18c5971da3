import { worker } from '#core/worker';
import { table } from '#db/client';
import { applyUsageRecords } from '#domain/ledger/rollups';
import type { StreamWindowEvent } from '#queues/definitions';

table();

/**
 * Table stream (its own event source, filtered: usage entry inserts; large batches, a tumbling
 * window so the event names its shard) → the usage rollups the dashboards read. Exactly once
 * per record however often Lambda hands a batch again (packages/domain/ledger/rollups.ts). A
 * failure throws: Lambda bisects the batch and retries it; nothing it wrote is counted twice.
 * A windowed source must be answered with a state: this function keeps none.
 */
export const handler = worker(async (event: StreamWindowEvent) => {
  if (!event.shardId) throw new Error('the event names no shard: the event source needs its tumbling window (definitions.ts)');
  await applyUsageRecords(event.shardId, event.Records);
  return { state: {} as Record<string, never>, batchItemFailures: [] as [] };
});
