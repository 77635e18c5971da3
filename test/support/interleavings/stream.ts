import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';
import { streamArnOf } from '#local/dynamodb';
import { matchesAnyFilter, usageRollupSource } from '#queues/definitions';

/**
 * The shared table's stream as the usage rollups' event source sees it (its filter applied),
 * read from where it stood when the tail was opened, each read taking only what is new, and
 * kept per agency and shard in the shard's order: so a test can hand the rollups a batch that
 * Lambda already handed them (a redelivery), with the same shard id and sequence numbers.
 * A shard's records of one agency read so far are a prefix of what the shard holds for that
 * agency's items, which is all a redelivery may be (records of a shard arrive in order).
 */
export class StreamTail {
  private readonly client: DynamoDBStreamsClient;
  private readonly iterators = new Map<string, string | undefined>();
  private readonly kept = new Map<string, Map<string, DynamoDBRecord[]>>();
  private opened = false;

  constructor(
    private readonly endpoint: string,
    private readonly tableName: string,
  ) {
    this.client = new DynamoDBStreamsClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  }

  /** Shards there now are read from their end on (what is already there is not this test's); new ones from their start. */
  async open(): Promise<void> {
    await this.shards('LATEST');
    this.opened = true;
  }

  private async shards(type: 'LATEST' | 'TRIM_HORIZON'): Promise<void> {
    const arn = await streamArnOf(this.endpoint, this.tableName);
    const { StreamDescription } = await this.client.send(new DescribeStreamCommand({ StreamArn: arn }));
    for (const shard of StreamDescription?.Shards ?? []) {
      if (!shard.ShardId || this.iterators.has(shard.ShardId)) continue;
      const { ShardIterator } = await this.client.send(
        new GetShardIteratorCommand({ StreamArn: arn, ShardId: shard.ShardId, ShardIteratorType: type }),
      );
      this.iterators.set(shard.ShardId, ShardIterator);
    }
  }

  private reading: Promise<void> = Promise.resolve();

  /** Reads every shard to its end; keeps the usage records of these agencies. One read at a time (they share iterators). */
  read(agencies: Set<string>): Promise<void> {
    this.reading = this.reading.catch(() => undefined).then(() => this.readNow(agencies));
    return this.reading;
  }

  private async readNow(agencies: Set<string>): Promise<void> {
    if (!this.opened) throw new Error('open the tail first');
    await this.shards('TRIM_HORIZON');
    for (const [shardId, start] of this.iterators) {
      let iterator = start;
      while (iterator) {
        const out = await this.client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
        iterator = out.NextShardIterator;
        this.iterators.set(shardId, iterator);
        for (const raw of out.Records ?? []) {
          const record = raw as unknown as DynamoDBRecord;
          const agency = record.dynamodb?.NewImage?.agencyId?.S;
          if (!agency || !agencies.has(agency) || !matchesAnyFilter(usageRollupSource.filters, record)) continue;
          const shards = this.kept.get(agency) ?? new Map<string, DynamoDBRecord[]>();
          shards.set(shardId, [...(shards.get(shardId) ?? []), record]);
          this.kept.set(agency, shards);
        }
        if ((out.Records?.length ?? 0) === 0) break;
      }
    }
  }

  /** The agency's records read so far, per shard. */
  batches(agencyId: string): Array<[string, DynamoDBRecord[]]> {
    return [...(this.kept.get(agencyId) ?? new Map<string, DynamoDBRecord[]>())];
  }

  forget(agencyId: string): void {
    this.kept.delete(agencyId);
  }
}
