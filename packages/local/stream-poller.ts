import { setTimeout as sleep } from 'node:timers/promises';
import {
  type _Record,
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import {
  matchesAnyFilter,
  outboxStreamFilter,
  type StreamSource,
  type StreamWindowEvent,
  streamSourceDefinition,
} from '#queues/definitions';
import { localCredentials, localRegion } from './aws-env';
import { lambdaContext } from './lambda-context';

type StreamHandler = (
  event: StreamWindowEvent,
  context: Context,
) => Promise<(DynamoDBBatchResponse & { state?: Record<string, unknown> }) | undefined>;

/**
 * How far the poller has got, for tests that must know nothing more is on its way: `passes`
 * started so far, and the last pass that read every shard to its end and handed the handler
 * all it read. A pass numbered above `passes` as asked has seen every record written before.
 * `handled` counts the records (past the filter) whose handler call has returned: unchanged
 * over a span, the handler did no work that ended in it.
 */
export interface StreamPollerStatus {
  passes: number;
  caughtUpThrough: number;
  handled: number;
}

/**
 * Does for the local table what Lambda's stream event source does in AWS: reads every shard,
 * applies the same filter, gathers batches as the source says (up to its batch size, for up
 * to its batching window), hands the handler `DynamoDBStreamEvent` batches (naming the shard
 * when the source has a tumbling window, and then taking an answer without `state` as a
 * failure), resumes from the first failed record the handler reports, halves a batch whose
 * handler threw when the source bisects, and gives a batch up when the same retry bound runs
 * out (logging it, where AWS would send it to the on-failure destination). Retries back off
 * up to 2 s, so a forward that failed while SQS was down goes through soon after it is back.
 *
 * It outlives DynamoDB Local restarts: after any error it backs off, asks for the stream ARN
 * again (a table re-created in memory has a new stream, read from its start) and otherwise
 * resumes each shard after the last record it read.
 */
export function startStreamPoller(opts: {
  endpoint: string;
  streamArn: () => Promise<string>;
  handler: StreamHandler;
  /** The function the event source invokes, named in the Lambda context of each batch. */
  functionName: string;
  log: (line: string) => void;
  /** The pause after a pass that read records (more may be on their way). Default 100 ms. */
  intervalMs?: number;
  /**
   * The pause after a pass that read nothing: Lambda polls each shard of a DynamoDB stream at a
   * base rate of four times a second (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html,
   * "Polling and batching streams"). Default 250 ms; `wake()` cuts a pause short.
   */
  idleIntervalMs?: number;
  /** How often the shards are listed again (DescribeStream) while none has ended. Default 1 s. */
  relistMs?: number;
  /** The event source's filter patterns (ORed, as Lambda does); default: the forwarder's. */
  filters?: readonly unknown[];
  /** The event source's batching and retries; default: the forwarder's. */
  source?: StreamSource;
  /** Told when the table has a new stream (re-created in memory), before its records are read from the start. */
  onNewStream?: () => void;
  /**
   * Where reading begins, as an event source mapping's `StartingPosition`: the oldest record
   * (default) or the newest, for the shards open when the poller first lists them. Shards
   * that open later, and a new stream of a re-created table, are read from their start.
   */
  startingPosition?: 'TRIM_HORIZON' | 'LATEST';
}): { stop(): Promise<void>; done: Promise<void>; status(): StreamPollerStatus; wake(): void } {
  const filters = opts.filters ?? [outboxStreamFilter];
  const source: StreamSource = opts.source ?? streamSourceDefinition;
  const windowMs = source.maxBatchingWindowSeconds * 1000;
  // Records read but not yet handed over: the batching window is still gathering them.
  const held = new Map<string, { records: DynamoDBRecord[]; since: number }>();
  const client = new DynamoDBStreamsClient({ endpoint: opts.endpoint, region: localRegion, credentials: localCredentials });
  const iterators = new Map<string, string | undefined>(); // shardId → next iterator (undefined = closed)
  const lastRead = new Map<string, string>(); // shardId → sequence number of the last record read
  let streamArn: string | undefined;
  let describedAt = 0; // when the shards were last listed
  let shardClosed = false; // a shard ended since: its children are to be listed now
  let reopen = true; // first poll, or after an error: iterators may belong to a dead engine
  // Shards opened at LATEST that have given no record yet: opened again at LATEST after an error.
  const atLatest = new Set<string>();
  let firstListing = opts.startingPosition === 'LATEST';
  let running = true;
  const interval = opts.intervalMs ?? 100;
  const idleInterval = opts.idleIntervalMs ?? 250;
  const relist = opts.relistMs ?? 1000;
  let endPause: (() => void) | undefined;
  const stopped = new AbortController();
  const progress: StreamPollerStatus = { passes: 0, caughtUpThrough: 0, handled: 0 };

  async function openShards() {
    if (reopen) {
      const current = await opts.streamArn();
      if (streamArn && current !== streamArn) {
        opts.log('stream poller: the table has a new stream (DynamoDB Local restarted in memory); reading it from its start');
        lastRead.clear();
        held.clear();
        atLatest.clear();
        opts.onNewStream?.();
      }
      streamArn = current;
      iterators.clear();
      reopen = false;
    }
    const arn = streamArn as string;
    // The shards are listed once in a while, or at once when one has ended, not on every pass
    // (each listing is a DescribeStream call the engine serves; Lambda lists between polls too).
    if (iterators.size && !shardClosed && Date.now() - describedAt < relist) return arn;
    describedAt = Date.now();
    shardClosed = false;
    const { StreamDescription } = await client.send(new DescribeStreamCommand({ StreamArn: arn }));
    for (const shard of StreamDescription?.Shards ?? []) {
      if (!shard.ShardId || iterators.has(shard.ShardId)) continue;
      if (firstListing) atLatest.add(shard.ShardId);
      const after = lastRead.get(shard.ShardId);
      const { ShardIterator } = await client.send(
        new GetShardIteratorCommand({
          StreamArn: arn,
          ShardId: shard.ShardId,
          ...(after
            ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after }
            : { ShardIteratorType: atLatest.has(shard.ShardId) ? 'LATEST' : 'TRIM_HORIZON' }),
        }),
      );
      iterators.set(shard.ShardId, ShardIterator);
    }
    firstListing = false;
    return arn;
  }

  /**
   * One invocation, as Lambda makes it: its own Lambda context; a windowed source names the
   * shard and must be answered with a state.
   */
  async function invoke(shardId: string, records: DynamoDBRecord[]) {
    const context = lambdaContext(opts.functionName);
    if (!source.tumblingWindowSeconds) return opts.handler({ Records: records }, context);
    const size = source.tumblingWindowSeconds * 1000;
    const start = Math.floor(Date.now() / size) * size;
    const event: StreamWindowEvent = {
      Records: records,
      shardId,
      state: {},
      window: { start: new Date(start).toISOString(), end: new Date(start + size).toISOString() },
      isFinalInvokeForWindow: false,
      isWindowTerminatedEarly: false,
    };
    const result = await opts.handler(event, context);
    if (!result || typeof result.state !== 'object' || result.state === null)
      throw new Error('the answer has no state (a windowed source needs one)');
    return result;
  }

  /**
   * Lambda's retries: from the first failed record, until the retry count or the record's age
   * runs out; a handler that threw gets its batch in halves, each retried alone, when the
   * source bisects.
   */
  async function deliver(shardId: string, records: DynamoDBRecord[]): Promise<void> {
    const { retryAttempts, maxRecordAgeSeconds = 86_400 } = source;
    const firstTried = Date.now() / 1000;
    let pending = records;
    for (let attempt = 0; pending.length > 0 && running; attempt++) {
      let failedAt: number;
      try {
        const result = await invoke(shardId, pending);
        const first = result?.batchItemFailures?.[0]?.itemIdentifier;
        if (!first) {
          if (attempt > 0) opts.log(`stream batch delivered after ${attempt} retries`);
          return;
        }
        failedAt = Math.max(
          0,
          pending.findIndex((r) => r.dynamodb?.SequenceNumber === first),
        );
        if (attempt === 0) opts.log(`stream handler reported a failure (${pending.length - failedAt} records); retrying`);
      } catch (err) {
        opts.log(`stream handler failed: ${(err as Error).message}`);
        if (source.bisectBatchOnError && pending.length > 1) {
          const half = Math.ceil(pending.length / 2);
          await deliver(shardId, pending.slice(0, half));
          await deliver(shardId, pending.slice(half));
          return;
        }
        failedAt = 0;
      }
      pending = pending.slice(failedAt);
      const age = Date.now() / 1000 - (pending[0]?.dynamodb?.ApproximateCreationDateTime ?? firstTried);
      if ((retryAttempts >= 0 && attempt >= retryAttempts) || age > maxRecordAgeSeconds) {
        opts.log(`stream batch dropped after ${attempt} retries (${pending.length} records, the oldest ${Math.round(age)}s old)`);
        return;
      }
      await sleep(Math.min(200 * 2 ** attempt, 2000), undefined, { signal: stopped.signal }).catch(() => undefined);
    }
  }

  /** GetRecords hands at most 1,000 records a call, whatever a batch may hold. */
  const READ_LIMIT = 1000;

  async function pollOnce() {
    const pass = ++progress.passes;
    let atEnd = true;
    let readInPass = 0;
    const arn = await openShards();
    for (const [shardId, iterator] of iterators) {
      const gathering = held.get(shardId) ?? { records: [], since: Date.now() };
      if (iterator) {
        const out = await client.send(
          new GetRecordsCommand({ ShardIterator: iterator, Limit: Math.min(READ_LIMIT, source.batchSize) }),
        );
        if ((out.Records?.length ?? 0) >= Math.min(READ_LIMIT, source.batchSize)) atEnd = false;
        iterators.set(shardId, out.NextShardIterator);
        if (!out.NextShardIterator) shardClosed = true;
        const read = out.Records ?? [];
        readInPass += read.length;
        const last = read.at(-1)?.dynamodb?.SequenceNumber;
        if (last) {
          lastRead.set(shardId, last);
          atLatest.delete(shardId);
        }
        const passed = read.map((r) => toLambdaRecord(r, arn)).filter((r) => matchesAnyFilter(filters, r));
        if (passed.length && gathering.records.length === 0) gathering.since = Date.now();
        gathering.records.push(...passed);
      }
      // Handed over when a batch is full, the window has passed, or the shard has closed.
      const due = !iterator || gathering.records.length >= source.batchSize || Date.now() - gathering.since >= windowMs;
      if (gathering.records.length && due) {
        held.delete(shardId);
        for (let i = 0; i < gathering.records.length; i += source.batchSize) {
          const batch = gathering.records.slice(i, i + source.batchSize);
          await deliver(shardId, batch);
          progress.handled += batch.length;
        }
      } else if (gathering.records.length) {
        held.set(shardId, gathering);
        atEnd = false; // records wait for their window: not caught up yet
      }
    }
    if (atEnd) progress.caughtUpThrough = pass;
    return readInPass > 0 || held.size > 0;
  }

  /** A pause that `wake()` or `stop()` ends early. */
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const end = () => {
        clearTimeout(timer);
        stopped.signal.removeEventListener('abort', end);
        endPause = undefined;
        resolve();
      };
      const timer = setTimeout(end, ms);
      stopped.signal.addEventListener('abort', end);
      endPause = end;
    });

  let failing = false; // the engine did not answer: pauses back off, and a wake does not cut them
  const done = (async () => {
    let wait = interval;
    while (running) {
      try {
        const busy = await pollOnce();
        if (failing) opts.log('stream poller: reading the stream again');
        failing = false;
        wait = busy ? interval : idleInterval;
      } catch (err) {
        if (!running) break;
        if (!failing) opts.log(`stream poller: cannot read the stream (${(err as Error).message}); retrying until it answers`);
        failing = true;
        reopen = true;
        wait = Math.min(wait * 2, 2000);
      }
      await pause(wait);
    }
  })();

  return {
    done,
    status: () => ({ ...progress }),
    /** Polls now instead of at the end of the pause (someone waits for the pipeline: support/idle.ts). */
    wake: () => {
      if (!failing) endPause?.();
    },
    async stop() {
      running = false;
      stopped.abort();
      client.destroy(); // also ends a request to an engine that hangs
      await done;
    },
  };
}

function toLambdaRecord(r: _Record, streamArn: string): DynamoDBRecord {
  const d = r.dynamodb ?? {};
  return {
    eventID: r.eventID,
    eventName: r.eventName as DynamoDBRecord['eventName'],
    eventVersion: r.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: localRegion,
    eventSourceARN: streamArn,
    dynamodb: {
      ApproximateCreationDateTime: d.ApproximateCreationDateTime
        ? Math.floor(d.ApproximateCreationDateTime.getTime() / 1000)
        : undefined,
      Keys: d.Keys as never,
      NewImage: d.NewImage as never,
      OldImage: d.OldImage as never,
      SequenceNumber: d.SequenceNumber,
      SizeBytes: d.SizeBytes,
      StreamViewType: d.StreamViewType,
    },
  };
}
