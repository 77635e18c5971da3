import {
  type _Record,
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { matchesFilter, outboxStreamFilter, streamSourceDefinition } from '../queues/definitions';
import { localCredentials, localRegion } from './aws-env';

type StreamHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | undefined>;

/**
 * Does for the local table what Lambda's stream event source does in AWS: reads every shard,
 * applies the same filter, hands the handler `DynamoDBStreamEvent` batches, resumes from the
 * first failed record the handler reports, and gives a batch up after the same number of
 * retries (logging it, where AWS would send it to the on-failure destination).
 */
export function startStreamPoller(opts: {
  endpoint: string;
  streamArn: string;
  handler: StreamHandler;
  log: (line: string) => void;
  intervalMs?: number;
}): { stop(): Promise<void> } {
  const client = new DynamoDBStreamsClient({ endpoint: opts.endpoint, region: localRegion, credentials: localCredentials });
  const iterators = new Map<string, string | undefined>(); // shardId → next iterator (undefined = closed)
  let running = true;
  const interval = opts.intervalMs ?? 100;

  async function discoverShards() {
    const { StreamDescription } = await client.send(new DescribeStreamCommand({ StreamArn: opts.streamArn }));
    for (const shard of StreamDescription?.Shards ?? []) {
      if (!shard.ShardId || iterators.has(shard.ShardId)) continue;
      const { ShardIterator } = await client.send(
        new GetShardIteratorCommand({ StreamArn: opts.streamArn, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
      );
      iterators.set(shard.ShardId, ShardIterator);
    }
  }

  async function deliver(records: DynamoDBRecord[]) {
    let pending = records;
    for (let attempt = 0; pending.length > 0; attempt++) {
      let failedAt: number;
      try {
        const result = await opts.handler({ Records: pending });
        const first = result?.batchItemFailures?.[0]?.itemIdentifier;
        if (!first) return;
        failedAt = Math.max(
          0,
          pending.findIndex((r) => r.dynamodb?.SequenceNumber === first),
        );
      } catch (err) {
        opts.log(`stream handler failed: ${(err as Error).message}`);
        failedAt = 0;
      }
      if (attempt >= streamSourceDefinition.retryAttempts) {
        opts.log(`stream batch dropped after ${attempt} retries (${pending.length - failedAt} records)`);
        return;
      }
      pending = pending.slice(failedAt);
      await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
    }
  }

  async function pollOnce() {
    await discoverShards();
    for (const [shardId, iterator] of iterators) {
      if (!iterator) continue;
      const out = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: streamSourceDefinition.batchSize }));
      iterators.set(shardId, out.NextShardIterator);
      const batch = (out.Records ?? [])
        .map((r) => toLambdaRecord(r, opts.streamArn))
        .filter((r) => matchesFilter(outboxStreamFilter, r));
      if (batch.length) await deliver(batch);
    }
  }

  const loop = (async () => {
    while (running) {
      try {
        await pollOnce();
      } catch (err) {
        if (running) opts.log(`stream poller: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, interval));
    }
  })();

  return {
    async stop() {
      running = false;
      await loop;
      client.destroy();
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
