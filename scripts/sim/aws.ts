/**
 * The published figures the model runs on, each with its source. [F] is published, [D] derived
 * from a published figure, [E] an estimate (say so wherever it matters).
 *
 * Sources:
 * [F1] DynamoDB developer guide, "Amazon DynamoDB Transactions: How it works"
 *      (docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html):
 *      - conflict handling: "A PutItem, UpdateItem, or DeleteItem request for an item conflicts
 *        with an ongoing TransactWriteItems request that includes the same item" and "An item
 *        within a TransactWriteItems request is part of another ongoing TransactWriteItems
 *        request" → the later request is rejected (TransactionCanceledException with reason
 *        TransactionConflict; TransactionConflictException for a single write);
 *      - capacity: "DynamoDB performs two underlying reads or writes of every item in the
 *        transaction: one to prepare the transaction and one to commit", so a transactional
 *        write of an item ≤ 1 KB costs 2 WCU;
 *      - at most 100 actions per TransactWriteItems.
 * [F2] "Best practices for designing and using partition keys effectively"
 *      (docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html):
 *      "as long as the traffic against a given partition key does not exceed 3000 read capacity
 *      units or 1000 write capacity units"; adaptive capacity isolates a hot item on its own
 *      partition but "the partition's throughput is still capped at … 1,000 WCUs"; burst
 *      capacity "can't alleviate partition-level throttling"
 *      (repost.aws/knowledge-center/dynamodb-spiky-workloads-short-intervals).
 * [F3] GSI write throttling throttles the base table's writes ("When a GSI has insufficient
 *      write capacity, throttling results in write operations that fail on the base table",
 *      repost.aws/knowledge-center/dynamodb-gsi-throttling-table; developerguide/gsi-throttling.html).
 * [F4] github.com/alexdebrie/dynamodb-performance-testing (README, results table; calls from
 *      Lambda, 400 invocations each): TransactWriteItems 5 items p50 25.3 / p90 30.7 / p95 36.4
 *      / p99 92.5 ms; 25 items p50 32.1 / p90 40.5 / p99 97.5 ms; 5 items with a failure p50
 *      25.3 ms; PutItem p50 7.55 / p90 11.3 / p99 16.2 ms.
 * [F5] Lambda, "Understanding Lambda function scaling"
 *      (docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html): "For each concurrent
 *      request, Lambda provisions a separate instance of your execution environment"; default
 *      account limit 1,000 concurrent executions per Region.
 * [F6] Lambda, "Lambda scaling behavior" (docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html):
 *      "1,000 execution environment instances every 10 seconds" per function, refilled
 *      continuously; past it or past the concurrency limit, requests fail with a throttle (429).
 * [F7] Cold start of a small Node.js 20 function (256 MB, us-east-1): average Init duration
 *      242–305 ms, p90 ≈ 580–640 ms (gist.github.com/adriantanasa/06a9cbc36744ef0bf946255e9e75efbe,
 *      100 cold starts per size); phases in aws.amazon.com/blogs/compute/operating-lambda-performance-optimization-part-1/.
 * [F8] Kinesis: a shard ingests 1,000 records/s (aws.amazon.com/blogs/compute/increasing-real-time-stream-processing-performance-with-amazon-kinesis-data-streams-enhanced-fan-out-and-aws-lambda/;
 *      API_PutRecord); enhanced fan-out: "Typically an average of 70 ms" message propagation
 *      delay (docs.aws.amazon.com/streams/latest/dev/building-consumers.html).
 */
import type { Rng } from './rng';

export const AWS = {
  /** [F1] */
  maxTransactItems: 100,
  /** [F1] prepare + commit */
  transactionalWcuPerKb: 2,
  /** A standard (non-transactional) write, and a GSI copy of a write: 1 WCU per KB. */
  standardWcuPerKb: 1,
  /** [F2] */
  partitionKeyWcuPerSecond: 1000,
  /** [F2] an item lives in one partition: the same cap applies to it alone. */
  itemWcuPerSecond: 1000,
  /** [F5] */
  defaultAccountConcurrency: 1000,
  /** [F6] 1,000 per 10 s, refilled continuously. */
  scalingBurst: 1000,
  scalingPerSecond: 100,
  /** [F8] */
  kinesisRecordsPerShardPerSecond: 1000,
  kinesisEfoPropagationMs: 70,
};

/**
 * Latency of one TransactWriteItems of n items, from Lambda. The median is the line through
 * [F4]'s two medians (25.3 ms at 5 items, 32.1 ms at 25): 23.6 + 0.34·n ms. The body is
 * lognormal with σ = 0.16 (p90/p50 = 30.7/25.3 → σ ≈ 0.15); [F4]'s p99 (92.5 ms, 3.7× the
 * median) is a tail, not a wider body: 2% of calls take a second lognormal factor with median
 * 3.5 (σ 0.3), which puts the model's p95 at ≈ 34 ms and its p99 at ≈ 90 ms.
 */
export function twiLatencyMs(rng: Rng, n: number): number {
  const median = 23.6 + 0.34 * n;
  const body = rng.lognormal(median, 0.16);
  return rng.uniform() < 0.02 ? body * rng.lognormal(3.5, 0.3) : body;
}

/** One PutItem/UpdateItem, from Lambda [F4]: median 7.55 ms, σ 0.32 (p90 11.3, p99 16.2). */
export function singleWriteLatencyMs(rng: Rng): number {
  return rng.lognormal(7.55, 0.32);
}

/** A GetItem/BatchGetItem/Query [E]: not in [F4]; taken as the PutItem figure, a little slower per extra page. */
export function readLatencyMs(rng: Rng, pages = 1): number {
  return rng.lognormal(7.55, 0.32) + (pages - 1) * 3;
}

/** [F7] Node.js 20 Init: median ≈ 250 ms, σ 0.55 (p90 ≈ 500 ms). */
export function coldStartMs(rng: Rng): number {
  return rng.lognormal(250, 0.55);
}

/**
 * API Gateway + Lambda invoke overhead around the handler [E]: not published as a figure we
 * could cite; a few milliseconds each way is the usual order. Applied to every design alike.
 */
export function invokeOverheadMs(rng: Rng): number {
  return rng.lognormal(8, 0.3);
}

/** Kinesis PutRecord from Lambda [E]: a single small write, taken as the PutItem figure. */
export function putRecordMs(rng: Rng): number {
  return rng.lognormal(7.55, 0.32);
}

/** Kinesis enhanced fan-out propagation [F8]: average 70 ms (lognormal σ 0.35, median 66). */
export function efoPropagationMs(rng: Rng): number {
  return rng.lognormal(66, 0.35);
}

/** Transactional write units of an item of this size [F1]. */
export const transactionalUnits = (bytes: number) => AWS.transactionalWcuPerKb * Math.max(1, Math.ceil(bytes / 1024));
/** Standard write units (and a GSI copy's) of an item of this size. */
export const standardUnits = (bytes: number) => AWS.standardWcuPerKb * Math.max(1, Math.ceil(bytes / 1024));
