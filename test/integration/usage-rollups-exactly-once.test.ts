/**
 * The usage rollups count every usage entry exactly once however Lambda hands the stream over
 * (issue 19): a batch again after a failure, a batch again in halves (bisect), two shards'
 * batches interleaved, two aggregators writing the same items at once. The aggregator runs
 * here in process against the stack's table, on stream records built as DynamoDB writes them
 * (the entry's NewImage, a sequence number) for accounts of their own, so the stack's own
 * poller never sees them. Each case ends with the rollups equal to the sums of the entries.
 */
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { newId } from '#core/ids';
import { dynamo } from '#db/client';
import {
  accountDayKey,
  accountTotalsKey,
  agencyDayKey,
  getRollups,
  totalsAttribute,
  totalsPart,
  type UsageRollup,
  walletTotalsAttribute,
} from '#db/items/usage-rollup';
import { itemId } from '#db/read';
import { itemKinds, type Key } from '#db/schema';
import { applyUsageRecords, WATERMARK_KEPT_MS } from '#domain/ledger/rollups';

interface Debit {
  accountId: string;
  type: 'ai_response' | 'campaign_message';
  credits: number;
  at: string;
  wallet: boolean;
}

/** A fresh agency with two sub-accounts (one drawing on a wallet) and its own use. */
function world() {
  const agencyId = newId('agency');
  const manual = newId('subAccount');
  const wallet = newId('subAccount');
  return { agencyId, manual, wallet, accounts: [agencyId, manual, wallet] };
}

/** `n` debits over the world's accounts, across a UTC month end (and so a day end). */
function debits(w: ReturnType<typeof world>, n: number): Debit[] {
  return Array.from({ length: n }, (_, i) => {
    const accountId = w.accounts[i % 3] as string;
    return {
      accountId,
      type: i % 2 ? 'ai_response' : 'campaign_message',
      credits: 1 + (i % 7),
      at: i < n / 2 ? '2026-10-31T23:59:59.000Z' : '2026-11-01T00:00:01.000Z',
      wallet: accountId === w.wallet,
    };
  });
}

/** A debit's entry as its stream INSERT record carries it, at sequence number `seq`. */
function record(w: ReturnType<typeof world>, d: Debit, seq: bigint): DynamoDBRecord {
  const entry = {
    pk: `LEDGER#${w.agencyId}#00`,
    sk: `IDEM#usage#${d.accountId}#${seq}`,
    kind: itemKinds.ledgerEntry,
    id: newId('transaction', Date.parse(d.at)),
    agencyId: w.agencyId,
    createdAt: d.at,
    type: d.type,
    credits: -d.credits,
    balanceAfter: 0,
    balanceKind: d.wallet ? 'wallet' : 'pool',
    accountId: d.accountId,
    subAccountId: d.accountId === w.agencyId ? null : d.accountId,
    actor: { type: 'platform' },
    idempotencyKey: String(seq),
    requestHash: 'x',
  };
  return {
    eventName: 'INSERT',
    eventID: String(seq),
    dynamodb: { NewImage: marshall(entry, { removeUndefinedValues: true }) as never, SequenceNumber: seq.toString() },
  };
}

/** Records for the debits in order, sequence numbers growing from `start` by `step` (one shard's order). */
const recordsOf = (w: ReturnType<typeof world>, list: Debit[], start: bigint, step = 1n) =>
  list.map((d, i) => record(w, d, start + BigInt(i) * step));

/** What the rollups must say: the debits summed per account day, agency day, and per account in the agency's day and month parts. */
function expected(w: ReturnType<typeof world>, list: Debit[]) {
  const want = new Map<string, Record<string, number>>();
  const add = (key: Key, counters: Record<string, number>) => {
    const row = want.get(itemId(key)) ?? {};
    for (const [k, n] of Object.entries(counters)) row[k] = (row[k] ?? 0) + n;
    want.set(itemId(key), row);
  };
  for (const d of list) {
    const typed = { total: d.credits, [d.type]: d.credits };
    add(accountDayKey(d.accountId, d.at.slice(0, 10)), d.wallet ? { ...typed, wallet: d.credits } : typed);
    add(agencyDayKey(w.agencyId, d.at.slice(0, 10)), d.wallet ? { ...typed, wallet: d.credits } : typed);
    const part = totalsPart(d.accountId);
    const asTotal = { total: d.credits, [totalsAttribute(d.accountId)]: d.credits };
    add(accountTotalsKey(w.agencyId, part, d.at.slice(0, 10)), asTotal);
    add(
      accountTotalsKey(w.agencyId, part, d.at.slice(0, 7)),
      d.wallet ? { ...asTotal, [walletTotalsAttribute(d.accountId)]: d.credits } : asTotal,
    );
  }
  return want;
}

const COUNTERS = ['total', 'ai_response', 'campaign_message', 'wallet'];
/** A counter, or an account's credits in a totals part (`a_<id>`, `w_<id>`). */
const isCounter = (name: string) => COUNTERS.includes(name) || /^[aw]_/.test(name);

/** The rollups as stored, reduced to their counters, for the keys `want` names. */
async function stored(want: Map<string, Record<string, number>>) {
  const keys = [...want.keys()].map((id) => {
    const [pk, sk] = id.split('|') as [string, string];
    return { pk, sk };
  });
  const found = await getRollups(keys);
  return new Map(
    [...want.keys()].map((id) => {
      const item = found.get(id) as Record<string, unknown> | undefined;
      return [id, Object.fromEntries(Object.entries(item ?? {}).filter(([name]) => isCounter(name)))];
    }),
  );
}

async function expectExact(w: ReturnType<typeof world>, list: Debit[]) {
  const want = expected(w, list);
  const parts = new Set(w.accounts.map(totalsPart)).size;
  expect(want.size).toBe(3 * 2 + 2 + parts * 4); // 3 accounts × 2 days, the agency's 2 days, each part × 2 days and 2 months
  expect(await stored(want)).toEqual(want);
}

describe('the usage rollups, exactly once', () => {
  it('counts a batch handed over twice once', async () => {
    const w = world();
    const list = debits(w, 60);
    const batch = recordsOf(w, list, 1000n);
    const first = await applyUsageRecords('shard-a', batch);
    // 8 items (3 accounts' and the agency's days), each read once and written once for the
    // batch's 60 debits, and the agency's per-account totals: one item per part its accounts fall
    // in, for each of the 2 days and 2 months (an account's month is there, not an item of its own).
    const parts = new Set(w.accounts.map(totalsPart)).size;
    expect(first).toEqual({ records: 60, writes: 8 + parts * 4, conflicts: 0 });
    const again = await applyUsageRecords('shard-a', batch);
    expect(again.writes).toBe(0);
    await expectExact(w, list);
  });

  it('counts a batch, then its halves (a bisected retry), once; and halves first, then the whole', async () => {
    const w = world();
    const list = debits(w, 60);
    const batch = recordsOf(w, list, 5_000n);
    await applyUsageRecords('shard-a', batch);
    await applyUsageRecords('shard-a', batch.slice(0, 30));
    await applyUsageRecords('shard-a', batch.slice(30));
    await expectExact(w, list);

    // A first attempt that got through its first half only, then Lambda's retry of the whole.
    const v = world();
    const other = debits(v, 60);
    const records = recordsOf(v, other, 5_000n);
    await applyUsageRecords('shard-a', records.slice(0, 30));
    await applyUsageRecords('shard-a', records);
    await applyUsageRecords('shard-a', records.slice(30));
    await expectExact(v, other);
  });

  it('keeps two shards apart: their batches interleaved and each handed over again', async () => {
    const w = world();
    const list = debits(w, 80);
    // Shard b's sequence numbers are lower than shard a's: each is compared with its own shard's watermark only.
    const a = recordsOf(w, list.slice(0, 40), 900_000n);
    const b = recordsOf(w, list.slice(40), 100n);
    for (const [shard, batch] of [
      ['shard-a', a.slice(0, 20)],
      ['shard-b', b.slice(0, 20)],
      ['shard-a', a.slice(0, 20)],
      ['shard-b', b],
      ['shard-a', a],
      ['shard-b', b.slice(20)],
    ] as const) {
      await applyUsageRecords(shard, [...batch]);
    }
    await expectExact(w, list);
  });

  it('compares sequence numbers as numbers, not as text (9 < 10, and 40 digits fit)', async () => {
    const w = world();
    const list = debits(w, 12);
    const big = 10n ** 39n;
    const records = [
      ...recordsOf(w, list.slice(0, 4), 7n), // 7, 8, 9, 10
      ...recordsOf(w, list.slice(4, 8), 98n), // 98 … 101
      ...recordsOf(w, list.slice(8), big), // 40 digits
    ];
    await applyUsageRecords('shard-a', records.slice(0, 3)); // up to 9
    await applyUsageRecords('shard-a', records); // 10 and on are new ("10" < "9" as text)
    await applyUsageRecords('shard-a', records);
    await expectExact(w, list);
  });

  it('stays exact with two aggregators on the same items at once (other shards, and the same batch twice)', async () => {
    const w = world();
    const list = debits(w, 120);
    const a = recordsOf(w, list.slice(0, 60), 1_000n);
    const b = recordsOf(w, list.slice(60), 1_000n);
    const results = await Promise.all([
      applyUsageRecords('shard-a', a),
      applyUsageRecords('shard-b', b),
      applyUsageRecords('shard-a', a),
      applyUsageRecords('shard-b', b.slice(0, 30)),
    ]);
    await expectExact(w, list);
    // They did meet: a race lost is a re-read and a redo, never a count lost or doubled.
    console.log(`concurrent aggregators: ${results.map((r) => `${r.writes} writes/${r.conflicts} lost races`).join(', ')}`);
  });

  it('redoes its change on the item as it is now when another writer got there between its read and its write', async () => {
    const w = world();
    const list = debits(w, 30);
    // Both batches count in every item: the same accounts, days and months.
    const mine = recordsOf(
      w,
      list.filter((_, i) => i % 2 === 0),
      10n,
    );
    const theirs = recordsOf(
      w,
      list.filter((_, i) => i % 2 === 1),
      10n,
    );
    await applyUsageRecords('shard-a', mine.slice(0, 1)); // the items exist: a version to race on
    // Injected: the other shard's batch lands right after this aggregator's BatchGet (a race the
    // real parts produce only under load, which a test cannot time).
    let injected = false;
    const name = 'rollup-race';
    dynamo.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        if (context.commandName === 'BatchGetItemCommand' && !injected) {
          injected = true;
          await applyUsageRecords('shard-b', theirs);
        }
        return out;
      },
      { step: 'initialize', name },
    );
    let stats: Awaited<ReturnType<typeof applyUsageRecords>>;
    try {
      stats = await applyUsageRecords('shard-a', mine);
    } finally {
      dynamo.middlewareStack.remove(name);
    }
    expect(injected).toBe(true);
    expect(stats.conflicts).toBeGreaterThan(0);
    await expectExact(w, list);
  });

  it('drops a shard watermark 36 hours after it was set, and keeps the others', async () => {
    const w = world();
    const one = (credits: number): Debit => ({
      accountId: w.agencyId,
      type: 'ai_response',
      credits,
      at: '2026-10-31T12:00:00.000Z',
      wallet: false,
    });
    const key = accountTotalsKey(w.agencyId, totalsPart(w.agencyId), '2026-10');
    const t0 = Date.parse('2026-11-01T00:00:00Z');
    await applyUsageRecords('shard-old', [record(w, one(1), 1n)], t0);
    await applyUsageRecords('shard-recent', [record(w, one(2), 1n)], t0 + WATERMARK_KEPT_MS - 1000);
    await applyUsageRecords('shard-new', [record(w, one(4), 1n)], t0 + WATERMARK_KEPT_MS + 1000);
    const month = (await getRollups([key])).get(itemId(key)) as UsageRollup;
    expect(Object.keys(month.applied).sort()).toEqual(['shard-new', 'shard-recent']);
    expect([month.total, month[totalsAttribute(w.agencyId)], month.version]).toEqual([7, 7, 3]);
  });
});
