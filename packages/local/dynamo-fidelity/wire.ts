import { randomUUID } from 'node:crypto';

/**
 * Errors as DynamoDB puts them on the wire (JSON 1.0 protocol: HTTP 400, `__type` naming the
 * exception). TransactionCanceledException carries `Message` and `CancellationReasons`, one per
 * item in request order, `{"Code":"None"}` for the items that were fine (the shape DynamoDB Local
 * answers a failed condition with, and AWS's; reason codes and messages from the
 * TransactionCanceledException reference, APIReference/API_TransactWriteItems.html#API_TransactWriteItems_Errors).
 */
export interface WireAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

const PREFIX = 'com.amazonaws.dynamodb.v20120810#';

const answer = (body: unknown): WireAnswer => ({
  status: 400,
  headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID() },
  body: Buffer.from(JSON.stringify(body)),
});

export interface CancellationReason {
  Code: string;
  Message?: string;
}

export const reasons = {
  none: (): CancellationReason => ({ Code: 'None' }),
  conflict: (): CancellationReason => ({ Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' }),
  throttled: (onDemand: boolean, index: boolean): CancellationReason =>
    onDemand
      ? { Code: 'ThrottlingError', Message: throttleMessage(true, index) }
      : { Code: 'ProvisionedThroughputExceeded', Message: throttleMessage(false, index) },
};

export const transactionCanceled = (list: CancellationReason[]) =>
  answer({
    __type: `${PREFIX}TransactionCanceledException`,
    CancellationReasons: list,
    Message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${list.map((r) => r.Code).join(', ')}]`,
  });

export const transactionConflict = () =>
  answer({ __type: `${PREFIX}TransactionConflictException`, message: 'Transaction is ongoing for the item' });

/**
 * A single write over a key range's throughput: ThrottlingException for an on-demand table,
 * ProvisionedThroughputExceededException for a provisioned one, each with `ThrottlingReasons`
 * naming the limit and the resource (developerguide/throttling-diagnosing-workflow.html;
 * APIReference/API_ThrottlingReason.html: `TableWriteKeyRangeThroughputExceeded`,
 * `IndexWriteKeyRangeThroughputExceeded`). The SDK retries both (its throttling error codes).
 */
export const throttled = (onDemand: boolean, index: boolean, resource: string) =>
  answer({
    __type: `${PREFIX}${onDemand ? 'ThrottlingException' : 'ProvisionedThroughputExceededException'}`,
    message: throttleMessage(onDemand, index),
    ThrottlingReasons: [{ reason: `${index ? 'Index' : 'Table'}WriteKeyRangeThroughputExceeded`, resource }],
  });

function throttleMessage(onDemand: boolean, index: boolean): string {
  if (onDemand)
    return index
      ? 'Throughput exceeds the current capacity for one or more global secondary indexes. DynamoDB is automatically scaling your index so please try again shortly.'
      : 'Throughput exceeds the current capacity of your table or index. DynamoDB is automatically scaling your table or index so please try again shortly. If exceptions persist, check if you have a hot key: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html.';
  return index
    ? 'The level of configured provisioned throughput for one or more global secondary indexes of the table was exceeded. Consider increasing your provisioning level for the under-provisioned global secondary indexes with the UpdateTable API'
    : 'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.';
}

export const internalError = (message: string): WireAnswer => ({
  ...answer({ __type: `${PREFIX}InternalServerError`, message }),
  status: 500,
});
