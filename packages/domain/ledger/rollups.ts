import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { logger } from '#core/logger';
import { count } from '#core/metrics';
import {
  accountDayKey,
  accountTotalsKey,
  agencyDayKey,
  getRollups,
  putRollup,
  totalsAttribute,
  totalsPart,
  type UsageRollup,
  type Watermark,
  walletTotalsAttribute,
} from '#db/items/usage-rollup';
import { itemId } from '#db/read';
import { itemKinds, type Key } from '#db/schema';
import { type UsageType, usageTypes } from './schemas';

/**
 * The usage-rollups function's work: a stream batch of usage entries (its filter passes ledger
 * entry inserts of usage types only: entries are immutable, so an INSERT is all there is) added
 * to the rollup items (db/items/usage-rollup.ts), each item read once and written once per
 * batch however many of the batch's debits it counts.
 *
 * Exactly once: Lambda hands a batch again after a failure (whole, or in halves when it
 * bisects), and records of one shard arrive in order. So each item keeps, per shard, the
 * highest sequence number it applied, and applies only the batch's records above it; the
 * read-modify-write is conditioned on the item's version, and a lost race (another batch, of
 * another shard or a retry, wrote the item in between) re-reads the item and redoes the change
 * on it. A shard's watermark is dropped once it is 36 hours old: Lambda gives a record up after
 * a day (the stream keeps it 24 hours, and `maxRecordAgeSeconds` bounds the retries).
 */
export const WATERMARK_KEPT_MS = 36 * 3600 * 1000;
/** Lost races per item before the batch fails (Lambda then retries it): only a storm of writers gets there. */
const MAX_ATTEMPTS = 25;
/** Item writes in flight at once. */
const WRITE_CONCURRENCY = 32;

const usage = new Set<string>(usageTypes);

interface Usage {
  seq: bigint;
  agencyId: string;
  accountId: string;
  createdAt: string;
  type: UsageType;
  credits: number;
  fromWallet: boolean;
}

/** A usage entry from its stream record; anything else (which the filter keeps out) is undefined. */
function usageOf(record: DynamoDBRecord): Usage | undefined {
  const image = record.dynamodb?.NewImage;
  const seq = record.dynamodb?.SequenceNumber;
  if (record.eventName !== 'INSERT' || !image || !seq || !/^\d+$/.test(seq)) return undefined;
  const e = unmarshall(image as never) as Record<string, unknown>;
  if (e.kind !== itemKinds.ledgerEntry || !usage.has(String(e.type))) return undefined;
  const credits = -Number(e.credits);
  if (typeof e.agencyId !== 'string' || typeof e.accountId !== 'string' || typeof e.createdAt !== 'string') return undefined;
  if (!Number.isSafeInteger(credits) || credits <= 0 || Number.isNaN(Date.parse(e.createdAt))) return undefined;
  return {
    seq: BigInt(seq),
    agencyId: e.agencyId,
    accountId: e.accountId,
    createdAt: e.createdAt,
    type: e.type as UsageType,
    credits,
    fromWallet: e.balanceKind === 'wallet',
  };
}

/** What one item gains from the batch: its identity, and each record's counters with its sequence number. */
export interface Change {
  key: Key;
  identity: Omit<UsageRollup, 'total' | 'version' | 'applied'>;
  adds: Array<{ seq: bigint; counters: Record<string, number> }>;
}

/** The four items a usage entry counts in, each with what it adds there. */
function changesOf(u: Usage): Array<{ key: Key; identity: Change['identity']; counters: Record<string, number> }> {
  const date = u.createdAt.slice(0, 10);
  const month = u.createdAt.slice(0, 7);
  const counted: Record<string, number> = { total: u.credits, [u.type]: u.credits };
  const part = totalsPart(u.accountId);
  const asTotal = { total: u.credits, [totalsAttribute(u.accountId)]: u.credits };
  return [
    {
      key: accountDayKey(u.accountId, date),
      identity: { kind: itemKinds.accountUsageDay, agencyId: u.agencyId, accountId: u.accountId, date },
      counters: u.fromWallet ? { ...counted, wallet: u.credits } : counted,
    },
    {
      key: agencyDayKey(u.agencyId, date),
      identity: { kind: itemKinds.agencyUsageDay, agencyId: u.agencyId, date },
      // `wallet` here too: the pool's own use (its runway) is the day's total less what wallets paid for.
      counters: u.fromWallet ? { ...counted, wallet: u.credits } : counted,
    },
    {
      key: accountTotalsKey(u.agencyId, part, date),
      identity: { kind: itemKinds.accountTotals, agencyId: u.agencyId, part, period: date },
      counters: asTotal,
    },
    {
      // The account's month (creditsUsedThisMonth) and, apart, its wallet's share: the rest is
      // the pool use a monthly limit counts. In the agency's part, not an item per account: an
      // active account costs each batch one write (its day), not two.
      key: accountTotalsKey(u.agencyId, part, month),
      identity: { kind: itemKinds.accountTotals, agencyId: u.agencyId, part, period: month },
      counters: u.fromWallet ? { ...asTotal, [walletTotalsAttribute(u.accountId)]: u.credits } : asTotal,
    },
  ];
}

/**
 * The item's next version with the batch's records of this shard that it has not applied yet,
 * or undefined when it has them all (a redelivery). Watermarks older than `WATERMARK_KEPT_MS`
 * are dropped on the way.
 */
export function nextVersion(
  current: UsageRollup | undefined,
  change: Change,
  shardId: string,
  nowMs: number,
): UsageRollup | undefined {
  const mark = current?.applied?.[shardId];
  const seen = mark ? BigInt(mark.seq) : -1n;
  const fresh = change.adds.filter((a) => a.seq > seen);
  if (fresh.length === 0) return undefined;
  const next: Record<string, unknown> = { ...(current ?? change.identity) };
  for (const add of fresh) {
    for (const [name, n] of Object.entries(add.counters)) next[name] = (Number(next[name]) || 0) + n;
  }
  let highest = seen;
  for (const a of fresh) if (a.seq > highest) highest = a.seq;
  const applied: Record<string, Watermark> = {};
  for (const [shard, w] of Object.entries(current?.applied ?? {})) if (nowMs - w.at <= WATERMARK_KEPT_MS) applied[shard] = w;
  applied[shardId] = { seq: highest.toString(), at: nowMs };
  for (const k of ['pk', 'sk', 'gsi1pk', 'gsi1sk']) delete next[k];
  return { ...next, applied, version: (current?.version ?? 0) + 1 } as UsageRollup;
}

export interface RollupStats {
  /** Usage records in the batch. */
  records: number;
  /** Item writes made, and races lost (each followed by a re-read and a redo). */
  writes: number;
  conflicts: number;
}

/**
 * Adds a stream batch of one shard to the rollups. Throws when an item cannot be written (the
 * table refuses, or MAX_ATTEMPTS races are lost): Lambda retries the batch, and what was
 * written already is not counted twice.
 */
export async function applyUsageRecords(shardId: string, records: DynamoDBRecord[], nowMs = Date.now()): Promise<RollupStats> {
  const changes = new Map<string, Change>();
  let usages = 0;
  for (const record of records) {
    const u = usageOf(record);
    if (!u) {
      if (record.eventName === 'INSERT') logger.error('not a usage entry; left out of the rollups', { eventID: record.eventID });
      continue;
    }
    usages++;
    for (const c of changesOf(u)) {
      const id = itemId(c.key);
      const change = changes.get(id) ?? { key: c.key, identity: c.identity, adds: [] };
      change.adds.push({ seq: u.seq, counters: c.counters });
      changes.set(id, change);
    }
  }
  const stats: RollupStats = { records: usages, writes: 0, conflicts: 0 };
  if (changes.size === 0) return stats;

  const found = await getRollups([...changes.values()].map((c) => c.key));
  const queue = [...changes.entries()];
  const worker = async () => {
    for (let entry = queue.shift(); entry; entry = queue.shift()) {
      const [id, change] = entry;
      let current = found.get(id);
      for (let attempt = 1; ; attempt++) {
        const next = nextVersion(current, change, shardId, nowMs);
        if (!next) break;
        const outcome = await putRollup(next, current?.version);
        stats.writes++;
        if (outcome.written) break;
        stats.conflicts++;
        if (attempt >= MAX_ATTEMPTS) throw new Error(`rollup ${id}: lost ${attempt} races in a row`);
        current = outcome.current;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(WRITE_CONCURRENCY, queue.length) }, worker));
  count('RollupRecords', usages);
  count('RollupWrites', stats.writes);
  if (stats.conflicts) count('RollupConflicts', stats.conflicts);
  return stats;
}
