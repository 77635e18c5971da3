/**
 * An agency's ledger is spread over 32 partitions (issue 19: no partition takes every debit of
 * a busy agency), and the history reads it back as one list: a k-way merge of the shards,
 * newest first, each shard read lazily. Checked here on a seeded ledger: every entry in the
 * shard its idempotency scope hashes to (table and index alike); the pages together are the
 * whole list in order, filtered or not, and resume from an opaque cursor; a page of 50 reads
 * about 50 entries and a few per shard, not 32 × 50; a filter that rarely matches stops at
 * the page's read budget. What DynamoDB returned is observed on the handlers' own client.
 */
import { BatchWriteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { newId } from '#core/ids';
import { dynamo } from '#db/client';
import { LEDGER_SHARDS, type LedgerEntryItem, ledgerPartitions, ledgerShard, putEntry } from '#db/items/ledger-entry';
import { itemKinds } from '#db/schema';
import { filteredPageBudget, listTransactions } from '#domain/ledger/history';
import type { TransactionsQuery } from '#domain/ledger/schemas';
import { mapLimit } from '../support/routes';
import { stack } from '../support/stack';
import { testDb } from '../support/table';

const ENTRIES = 1_200;
const agencyId = newId('agency');
/** Every 10th entry is a grant to one sub-account: what the filters pick. */
const subAccountId = newId('subAccount');
let entries: LedgerEntryItem[];
const newestFirst = (list: LedgerEntryItem[]) => list.map((e) => e.id).reverse();

beforeAll(async () => {
  // One entry a second for the last 20 minutes. Top-ups and grants: no usage, so nothing else reacts to them.
  const start = Date.now() - ENTRIES * 1000;
  entries = Array.from({ length: ENTRIES }, (_, i) => {
    const grant = i % 10 === 0;
    return {
      kind: itemKinds.ledgerEntry,
      id: newId('transaction', start + i * 1000),
      agencyId,
      createdAt: new Date(start + i * 1000).toISOString(),
      type: grant ? 'grant' : 'top_up',
      credits: grant ? -1 : 1,
      balanceAfter: i,
      balanceKind: 'pool',
      accountId: grant ? subAccountId : agencyId,
      subAccountId: grant ? subAccountId : null,
      actor: { type: 'platform' },
      idempotencyKey: `shards-${i}`,
      requestHash: 'seed',
    };
  });
  const items = entries.map(
    (e) =>
      putEntry({ agencyId, operation: e.type, accountId: e.accountId, idempotencyKey: e.idempotencyKey }, e).Put?.Item as Record<
        string,
        unknown
      >,
  );
  const batches = Array.from({ length: Math.ceil(items.length / 25) }, (_, i) => items.slice(i * 25, i * 25 + 25));
  await mapLimit(batches, 4, async (batch) => {
    let pending = batch.map((Item) => ({ PutRequest: { Item } }));
    while (pending.length) {
      const out = await testDb.send(new BatchWriteCommand({ RequestItems: { [stack.tableName]: pending } }));
      pending = (out.UnprocessedItems?.[stack.tableName] ?? []) as typeof pending;
    }
  });
}, 120_000);

/** The history's queries while `fn` runs: how many, and how many entries DynamoDB read for them. */
async function observingReads<T>(fn: () => Promise<T>) {
  const seen = { queries: 0, evaluated: 0 };
  const name = 'observe-ledger-reads';
  dynamo.middlewareStack.add(
    (next, context) => async (args) => {
      const out: any = await next(args);
      if (context.commandName === 'QueryCommand') {
        seen.queries++;
        seen.evaluated += out.output.ScannedCount ?? 0;
      }
      return out;
    },
    { step: 'initialize', name },
  );
  try {
    return { result: await fn(), seen };
  } finally {
    dynamo.middlewareStack.remove(name);
  }
}

const page = (q: Partial<TransactionsQuery>, rounds?: number) => {
  const query = { limit: 50, ...q } as TransactionsQuery;
  return listTransactions(agencyId, query, filteredPageBudget(query.limit, rounds));
};

async function allPages(q: Partial<TransactionsQuery>, rounds?: number) {
  const pages: { ids: string[]; queries: number; evaluated: number }[] = [];
  let cursor: string | undefined;
  do {
    const { result, seen } = await observingReads(() => page({ ...q, cursor }, rounds));
    pages.push({ ids: result.items.map((e: { id: string }) => e.id), ...seen });
    cursor = result.nextCursor ?? undefined;
  } while (cursor && pages.length < 500);
  return pages;
}

describe('the sharded ledger', () => {
  it('keeps each entry in the shard its idempotency scope hashes to, on the table and on gsi1, and uses every shard', async () => {
    const partitions = ledgerPartitions(agencyId);
    expect(partitions).toHaveLength(LEDGER_SHARDS);
    const stored = await mapLimit(partitions, 8, async (pk) => {
      const out = await testDb.send(
        new QueryCommand({
          TableName: stack.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': pk },
        }),
      );
      return out.Items ?? [];
    });
    expect(stored.flat()).toHaveLength(ENTRIES);
    // 1,200 entries over 32 shards: about 37 each; a hash that favoured a few would show.
    for (const items of stored) expect(items.length).toBeGreaterThan(10);
    for (const item of stored.flat()) {
      const shard = ledgerShard({ operation: item.type, accountId: item.accountId, idempotencyKey: item.idempotencyKey });
      expect([item.pk, item.gsi1pk]).toEqual([`LEDGER#${agencyId}#${shard}`, `LEDGER#${agencyId}#${shard}`]);
    }
  });

  it('pages the whole history newest first, each page of 50 reading about 50 entries and a few per shard', async () => {
    const pages = await allPages({});
    expect(pages.flatMap((p) => p.ids)).toEqual(newestFirst(entries));
    // Full pages; the last may be empty (a shard's query that filled its limit cannot tell it
    // was the shard's end: DynamoDB hands back a key to go on from all the same).
    for (const p of pages.slice(0, -1)) expect(p.ids.length).toBe(50);
    const reads = pages.map((p) => p.evaluated);
    console.log(
      `history page of 50: ${Math.max(...pages.map((p) => p.queries))} queries and ${Math.max(...reads)} entries read at most, ${Math.round(reads.reduce((a, b) => a + b, 0) / reads.length)} on average`,
    );
    // The first round reads 3 from each shard (96); shards that run dry above the page's last row read on.
    for (const p of pages) expect(p.evaluated).toBeLessThanOrEqual(50 + 4 * LEDGER_SHARDS);
  });

  it('pages a time range and a filter alike, the pages together holding exactly the matches', async () => {
    const from = entries[300]?.createdAt as string;
    const to = entries[899]?.createdAt as string;
    const inRange = entries.slice(300, 900);
    expect((await allPages({ from, to })).flatMap((p) => p.ids)).toEqual(newestFirst(inRange));

    const grants = await allPages({ type: 'grant', limit: 7 } as Partial<TransactionsQuery>);
    expect(grants.flatMap((p) => p.ids)).toEqual(newestFirst(entries.filter((e) => e.type === 'grant')));
    const bySub = await allPages({ subAccountId, from, to });
    expect(bySub.flatMap((p) => p.ids)).toEqual(newestFirst(inRange.filter((e) => e.subAccountId === subAccountId)));
  });

  it('stops a filter that matches nothing at the read budget, and the cursor makes progress', async () => {
    // A budget of ten rounds (the API's is a hundred: more than this ledger holds).
    const pages = await allPages({ campaignId: 'nothing has this campaign', limit: 1 } as Partial<TransactionsQuery>, 10);
    expect(pages.flatMap((p) => p.ids)).toEqual([]);
    expect(pages.length).toBeGreaterThan(1);
    // A page of 1 reads at most ten rounds of its shards' first reads (2 each), plus one per shard.
    for (const p of pages) expect(p.evaluated).toBeLessThanOrEqual(10 * LEDGER_SHARDS + LEDGER_SHARDS);
    expect(pages.reduce((n, p) => n + p.evaluated, 0)).toBeGreaterThanOrEqual(ENTRIES);
  });

  it('refuses a cursor it did not hand out, or one outside the range asked for', async () => {
    const from = entries[300]?.createdAt as string;
    const first = await page({ from, limit: 5 });
    const below = JSON.parse(Buffer.from(first.nextCursor as string, 'base64url').toString()).below as string;
    const cursors = [
      Buffer.from(JSON.stringify({ below: 'txn_not-an-id' })).toString('base64url'),
      Buffer.from(JSON.stringify({ below, pk: 'LEDGER#other' })).toString('base64url'),
      Buffer.from(JSON.stringify({ pk: `LEDGER#${agencyId}#00`, sk: 'x' })).toString('base64url'),
    ];
    for (const cursor of cursors) await expect(page({ from, cursor })).rejects.toMatchObject({ status: 400 });
    // The same cursor under a range that ends before it.
    await expect(page({ to: entries[10]?.createdAt as string, cursor: first.nextCursor as string })).rejects.toMatchObject({
      status: 400,
      errors: [{ field: 'cursor' }],
    });
  });
});
