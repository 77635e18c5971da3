import type { DynamoDBStreamEvent } from 'aws-lambda';

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
 * the forwarder's filter and failure handling stay as they are): a wallet or the pool changed (a
 * debit may have left it below a threshold or an alert level, a credit lifted it back above; a
 * busy balance's lanes likewise), or a webhook delivery was inserted (to be queued for the
 * sender). Lambda ORs the filters; the local stream poller does the same.
 */
export const rechargeStreamFilters = [
  // The pool too: auto top-up and low-balance alerts (packages/domain/auto-top-up/detect.ts).
  { eventName: ['MODIFY'], dynamodb: { NewImage: { kind: { S: ['balance'] }, sk: { S: ['WALLET', 'POOL'] } } } },
  // A busy balance's debits write its lanes (packages/domain/ledger/lanes.ts), not the balance item.
  { eventName: ['INSERT', 'MODIFY'], dynamodb: { NewImage: { kind: { S: ['lane'] }, scope: { S: ['W', 'P'] } } } },
  { eventName: ['INSERT'], dynamodb: { NewImage: { kind: { S: ['webhook_delivery'] } } } },
  // Event webhooks (packages/domain/events/sources.ts): sub-accounts created or changed, grants
  // (entries are only ever inserted), and purchases, recharge requests, low-balance marks and
  // limited sub-accounts' meters (a month's limit reached).
  // Two patterns, not five: Lambda takes at most five per event source.
  {
    eventName: ['INSERT', 'MODIFY'],
    dynamodb: { NewImage: { kind: { S: ['account', 'ledger_entry'] }, type: { S: ['sub_account', 'grant'] } } },
  },
  {
    eventName: ['INSERT', 'MODIFY'],
    dynamodb: { NewImage: { kind: { S: ['purchase', 'recharge_request', 'low_balance_alerted', 'account_meter'] } } },
  },
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

/** A windowed source's event also names its shard and carries the window's state (Lambda's time window event). */
export type StreamWindowEvent = DynamoDBStreamEvent & {
  shardId?: string;
  state?: Record<string, unknown>;
  window?: { start: string; end: string };
  isFinalInvokeForWindow?: boolean;
  isWindowTerminatedEarly?: boolean;
};

/**
 * Stream records the usage-rollups function reads: inserted usage entries only. Entries are
 * immutable (an INSERT is all there is of one), and only usage types are usage: top-ups,
 * grants, purchases, refunds and disputes move credits but were never counted as usage.
 */
export const usageRollupStreamFilter = {
  eventName: ['INSERT'],
  dynamodb: { NewImage: { kind: { S: ['ledger_entry'] }, type: { S: ['ai_response', 'campaign_message'] } } },
} as const;

/**
 * The stream → usage-rollups event source, read by CDK and mirrored by the local stream poller.
 *
 * Large batches are the whole point: each rollup item (an account's day and month, the
 * agency's day) is written once per batch that counts in it, however many debits that is. A
 * busy pool, wallet or sub-account at thousands of debits a second then costs its rollup items
 * a few writes per shard every few seconds, instead of one per debit on one hot partition. So
 * Lambda gathers up to `batchSize` records for up to `maxBatchingWindowSeconds` (the dashboards
 * lag the ledger by about that much) before it invokes; at 2,000 usage entries of about 600
 * bytes a batch stays well under Lambda's 6 MB payload.
 *
 * Exactly once needs the shard a batch came from, and Lambda names it in the event (`shardId`)
 * only when the source has a tumbling window: the function keeps no state across the window
 * (it answers `state: {}`, as a windowed source requires), and the window is the longest Lambda
 * allows, so its closing invocation is rare. One batch at a time per shard (a window requires
 * it, and it keeps each shard's records in order).
 *
 * Failures retry until the record is a day old, like the forwarder's: the function depends on
 * the table alone, so a failure is the table's (throttled, unreachable) and every batch would
 * fail alike; a count of retries would drop usage from the dashboards during any outage longer
 * than a few seconds. A function error bisects the batch (a batch too large to finish in time
 * goes through in halves). Past a day, the batch's metadata goes to the stream-failures queue.
 */
export const usageRollupSource = {
  filters: [usageRollupStreamFilter],
  batchSize: 2_000,
  maxBatchingWindowSeconds: 5,
  tumblingWindowSeconds: 900,
  parallelizationFactor: 1,
  /** -1: no count; retried until the record is `maxRecordAgeSeconds` old. */
  retryAttempts: -1,
  maxRecordAgeSeconds: 86_400,
  bisectBatchOnError: true,
} as const;

/** What the local stream poller mirrors of an event source (the forwarder's, the detector's, the rollups'). */
export interface StreamSource {
  batchSize: number;
  maxBatchingWindowSeconds: number;
  retryAttempts: number;
  maxRecordAgeSeconds?: number;
  bisectBatchOnError: boolean;
  /** Set: Lambda names the shard in the event and expects `state` in the answer. */
  tumblingWindowSeconds?: number;
}

/**
 * The lane sweeper's schedule (an EventBridge rule in AWS, a timer in the local stack): idle
 * lanes give their credits back this often. A minute is EventBridge's finest rate, and with
 * the one-minute lease (ledger/lanes.ts) a quiet balance is whole again within two.
 */
export const laneSweeperSchedule = { everySeconds: 60 } as const;
