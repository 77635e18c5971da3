import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { worker } from './worker';

/**
 * An SQS consumer on Powertools' batch processor: the batch's records side by side, each
 * failure reported alone (partial batch response) so only it comes back, then to the DLQ.
 * A processor per batch: it holds the batch's state, and the local runtime runs several
 * batches of one function in one process. `throwOnFullBatchFailure: false` answers a batch
 * whose every record failed like any other (each retried on its own) instead of failing it.
 */
export function sqsWorker(
  recordHandler: (record: SQSRecord) => Promise<unknown>,
  opts: { throwOnFullBatchFailure?: boolean } = {},
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  return worker((event: SQSEvent, context) =>
    processPartialResponse(event, recordHandler, new BatchProcessor(EventType.SQS), { context, ...opts }),
  );
}
