import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { db, table } from './client';
import { type IndexName, indexNamed } from './schema';

/**
 * One list spread over several index partitions (a hot list sharded so no partition takes
 * every write), read back as one list, newest first, by a k-way merge on the sort key. Each
 * shard is read lazily: a small first page each, then more only from a shard whose unread part
 * may still hold something newer than the next row to hand out (its `floor`, the last sort key
 * DynamoDB evaluated there, is above that row). Sort keys must be unique across the shards
 * (time-ordered ids are).
 *
 * A reader is stateful: `take` hands out rows in order and can be called again for more
 * (the CSV export does), `resumeBelow` says where a later request carries on.
 */
export interface MergedSpec {
  /** The index the shards are partitions of (gsi1 when not said). */
  index?: IndexName;
  /** The shards: partitions of that index. */
  partitions: readonly string[];
  /** The sort key range, inclusive. */
  between: [string, string];
  /** Resume strictly below this sort key (a previous page's `resumeBelow`). */
  below?: string;
  /** A read-time filter (DynamoDB applies it as it reads: dropped items still cost reads). */
  filter?: { expression: string; names?: Record<string, string>; values?: Record<string, unknown> };
}

interface Shard<T> {
  partition: string;
  buffer: T[];
  startKey?: Record<string, unknown>;
  /** The smallest sort key evaluated so far: everything at or above it is known. */
  floor?: string;
  done: boolean;
  /** How many items the next query of this shard evaluates; doubles per query, as a shard proves busy. */
  nextLimit: number;
}

/** No single query evaluates more than this (a page of the largest list size). */
const MAX_QUERY_LIMIT = 200;

export class MergedReader<T extends object> {
  private readonly shards: Shard<T>[];
  private readonly ix;
  private readonly sortKey;
  /** Items DynamoDB evaluated (matching the filter or not) and queries made, for budgets and figures. */
  evaluated = 0;
  queries = 0;
  private lastOut?: string;

  constructor(
    private readonly spec: MergedSpec,
    firstLimit: number,
  ) {
    this.ix = indexNamed(spec.index ?? 'gsi1');
    this.sortKey = this.ix.sortKey;
    this.shards = spec.partitions.map((partition) => ({ partition, buffer: [], done: false, nextLimit: firstLimit }));
  }

  /** The first page's size per shard for a page of `rows`: its share and a little more, so most shards need one query. */
  static firstLimit(rows: number, shards: number): number {
    return Math.min(MAX_QUERY_LIMIT, Math.ceil(rows / shards) + 1);
  }

  /**
   * Up to `limit` more rows, newest first. Stops short when `budget` items have been evaluated
   * (a filtered list that rarely matches would otherwise read the whole ledger); a round of
   * queries never evaluates more than what is left of it (plus one item per shard).
   */
  async take(limit: number, budget = Number.POSITIVE_INFINITY): Promise<T[]> {
    const out: T[] = [];
    while (out.length < limit) {
      const head = this.newestHead();
      const candidate = head ? this.keyOf(head.buffer[0] as T) : undefined;
      // A shard must be read further when what it has not yet given could be newer than the candidate.
      const needy = this.shards.filter(
        (s) => !s.done && s.buffer.length === 0 && (candidate === undefined || s.floor === undefined || s.floor > candidate),
      );
      if (needy.length > 0) {
        const left = budget - this.evaluated;
        // Every shard is read once whatever the budget, so a page always makes progress.
        const reading = left > 0 ? needy : needy.filter((s) => s.floor === undefined);
        if (reading.length === 0) break;
        const share = Math.max(1, Math.ceil(left / reading.length));
        await Promise.all(reading.map((s) => this.read(s, Math.min(s.nextLimit, share))));
        continue;
      }
      if (!head) break;
      const row = head.buffer.shift() as T;
      this.lastOut = this.keyOf(row);
      out.push(row);
    }
    return out;
  }

  /**
   * Whether any row is left after those handed out. A shard whose last query filled its limit
   * cannot tell it reached its end, so a list that ends exactly at a page's last row would
   * otherwise hand out a cursor to an empty page: this reads on (at most what is left of
   * `budget`) only until one more row is buffered or every shard is done. A page that ends
   * with rows still buffered, the common case, costs nothing more.
   */
  async hasMore(budget = Number.POSITIVE_INFINITY): Promise<boolean> {
    for (;;) {
      if (this.shards.some((s) => s.buffer.length > 0)) return true;
      const open = this.shards.filter((s) => !s.done);
      if (open.length === 0) return false;
      const left = budget - this.evaluated;
      if (left <= 0) return true; // not known within the budget: the next request finds out
      const share = Math.max(1, Math.ceil(left / open.length));
      await Promise.all(open.map((s) => this.read(s, Math.min(s.nextLimit, share))));
    }
  }

  /**
   * Where the list carries on: strictly below this sort key (null: nothing is left). Every
   * row not yet handed out is below it: those buffered, and those unread (each shard's are
   * below its floor). After a page cut short by the budget that is the frontier the shards
   * were read down to, so the next request makes progress even when no row matched;
   * otherwise the last row handed out.
   */
  resumeBelow(): string | null {
    const open = this.shards.filter((s) => !s.done || s.buffer.length > 0);
    if (open.length === 0) return null;
    if (open.some((s) => !s.done && s.floor === undefined)) throw new Error('resumeBelow before every shard was read');
    const frontier = newest(open.filter((s) => !s.done).map((s) => s.floor as string));
    const newestBuffered = newest(open.flatMap((s) => (s.buffer.length ? [this.keyOf(s.buffer[0] as T)] : [])));
    if (frontier !== undefined && (newestBuffered === undefined || frontier > newestBuffered)) return frontier;
    if (this.lastOut === undefined) throw new Error('unreachable: rows buffered above the frontier but none handed out');
    return this.lastOut;
  }

  private newestHead(): Shard<T> | undefined {
    let best: Shard<T> | undefined;
    for (const s of this.shards) {
      if (s.buffer.length && (!best || this.keyOf(s.buffer[0] as T) > this.keyOf(best.buffer[0] as T))) best = s;
    }
    return best;
  }

  private keyOf(item: T): string {
    return (item as Record<string, unknown>)[this.sortKey] as string;
  }

  private async read(s: Shard<T>, limit: number): Promise<void> {
    const ix = this.ix;
    // The cursor was checked to lie inside the range (ledger-entry.ts).
    const upper = this.spec.below ?? this.spec.between[1];
    const out = await db.send(
      new QueryCommand({
        TableName: table(),
        IndexName: ix.name,
        KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
        FilterExpression: this.spec.filter?.expression,
        ExpressionAttributeNames: { '#pk': ix.partitionKey, '#sk': ix.sortKey, ...this.spec.filter?.names },
        ExpressionAttributeValues: {
          ':pk': s.partition,
          ':from': this.spec.between[0],
          ':to': upper,
          ...this.spec.filter?.values,
        },
        Limit: limit,
        ScanIndexForward: false,
        ExclusiveStartKey: s.startKey,
      }),
    );
    this.queries++;
    this.evaluated += out.ScannedCount ?? 0;
    // BETWEEN is inclusive: the resume point itself was handed out already.
    const items = ((out.Items ?? []) as T[]).filter((i) => this.keyOf(i) !== this.spec.below);
    s.buffer.push(...items);
    s.startKey = out.LastEvaluatedKey;
    if (s.startKey) s.floor = s.startKey[ix.sortKey] as string;
    else s.done = true;
    s.nextLimit = Math.min(MAX_QUERY_LIMIT, s.nextLimit * 2);
  }
}

/** The greatest of some sort keys (strings compare as DynamoDB orders them). */
function newest(keys: string[]): string | undefined {
  let best: string | undefined;
  for (const k of keys) if (best === undefined || k > best) best = k;
  return best;
}
