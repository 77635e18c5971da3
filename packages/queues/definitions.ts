/**
 * The queues, defined once: CDK creates them from here, the local runtime starts local-aws-sqs
 * with the same names and redrive policy. `visibilityTimeoutSeconds` is six times the
 * consumer's timeout, as AWS advises for Lambda event sources.
 */
export const queueDefinitions = {
  notifications: {
    name: 'agency-accounts-notifications',
    dlqName: 'agency-accounts-notifications-dlq',
    maxReceiveCount: 5,
    consumerTimeoutSeconds: 30,
    visibilityTimeoutSeconds: 180,
    retentionDays: 14,
    batchSize: 10,
  },
  /**
   * Auto-recharge webhook deliveries: one message per attempt. The sender POSTs (10 s at most),
   * so its timeout leaves room for the address check and the table writes; retries are new
   * messages with DelaySeconds (hops of ≤ 900 s), not visibility changes, so a message's
   * receive count only grows when the sender itself failed (crash, table down) and poison
   * still reaches the DLQ after 5.
   */
  webhooks: {
    name: 'agency-accounts-webhooks',
    dlqName: 'agency-accounts-webhooks-dlq',
    maxReceiveCount: 5,
    consumerTimeoutSeconds: 30,
    visibilityTimeoutSeconds: 180,
    retentionDays: 14,
    batchSize: 10,
  },
} as const;

export type QueueName = keyof typeof queueDefinitions;

/**
 * Stream records worth forwarding: inserted outbox items only. CDK passes this as the event
 * source's filter criteria; the local stream poller applies the same pattern.
 */
export const outboxStreamFilter = {
  eventName: ['INSERT'],
  dynamodb: { NewImage: { kind: { S: ['outbox'] } } },
} as const;

/**
 * Stream records the recharge detector reads (a second event source on the table stream, so
 * the forwarder's filter and failure handling stay as they are): a wallet changed (a debit may
 * have left it below its threshold; a busy wallet's lanes likewise), or a webhook delivery was inserted (to be queued for the
 * sender). Lambda ORs the filters; the local stream poller does the same.
 */
export const rechargeStreamFilters = [
  { eventName: ['MODIFY'], dynamodb: { NewImage: { kind: { S: ['balance'] }, sk: { S: ['WALLET'] } } } },
  // A busy wallet's debits write its lanes (packages/domain/ledger/lanes.ts), not the wallet item.
  { eventName: ['INSERT', 'MODIFY'], dynamodb: { NewImage: { kind: { S: ['lane'] }, scope: { S: ['W'] } } } },
  { eventName: ['INSERT'], dynamodb: { NewImage: { kind: { S: ['webhook_delivery'] } } } },
] as const;

/** The subset of EventBridge-style patterns used above: nested objects, arrays of allowed values. */
export function matchesFilter(pattern: unknown, value: unknown): boolean {
  if (Array.isArray(pattern)) return pattern.includes(value as never);
  if (pattern && typeof pattern === 'object') {
    if (!value || typeof value !== 'object') return false;
    return Object.entries(pattern).every(([k, p]) => matchesFilter(p, (value as Record<string, unknown>)[k]));
  }
  return pattern === value;
}

/** Any of several patterns (Lambda's filter criteria are ORed). */
export const matchesAnyFilter = (patterns: readonly unknown[], value: unknown) => patterns.some((p) => matchesFilter(p, value));

/**
 * The stream → forwarder event source, read by CDK and mirrored by the local stream poller.
 * A batch the forwarder cannot hand to SQS is retried until its oldest record is
 * `maxRecordAgeSeconds` old (the stream keeps records 24 h), not a number of times: the
 * forwarder's only dependency is the queue, so a failure means SQS is unreachable and every
 * batch would fail alike (its messages are a few bytes of ids: none can be poison). A count of
 * retries would drop the emails of any outage longer than a few seconds; this way an outage
 * under a day delays them. Past that, the batch's metadata goes to the stream-failures queue
 * and the outbox items stay in the table (their TTL is 14 days) for a replay by hand.
 */
export const streamSourceDefinition = {
  batchSize: 100,
  maxBatchingWindowSeconds: 1,
  /** -1: no count; retried until the record is `maxRecordAgeSeconds` old. */
  retryAttempts: -1,
  maxRecordAgeSeconds: 86_400,
  bisectBatchOnError: true,
  reportBatchItemFailures: true,
} as const;
