/**
 * `npx tsx scripts/bench/rollups.ts`: what the usage rollups cost (issue 19), on a local stack
 * of its own (in memory, the declared batching: up to 2,000 records, 5 s).
 *
 *  1. Through the API: DEBITS debits over SUBS manual sub-accounts, as fast as the API takes
 *     them; the usage-rollups function's writes counted as it makes them (PutItem on ROLLUP#
 *     keys), their write units from the items' sizes (1 per KB, and the gsi1 copy of an account
 *     day). DynamoDB Local's stream has one shard.
 *  2. The same aggregator on stream batches as Lambda hands them over at AWS scale, records
 *     spread over stream shards by their ledger partition: those debits in one batching window
 *     on 1, 8 and 32 shards; then one 5 s window at 10,000 debits/s over the SUBS sub-accounts,
 *     and over one sub-account (the hot one), on 32 shards.
 *  3. Reads per page of the transaction history, now merged from 32 partitions.
 *
 * DEBITS (2000) and SUBS (50) from the environment.
 */
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { newId } from '#core/ids';
import { startLocalStack } from '#local/stack';
import { itemSize } from './item-size';
import { agencyWithPool, apiOf, subAccounts } from './setup';

const DEBITS = Number(process.env.DEBITS ?? 2000);
const SUBS = Number(process.env.SUBS ?? 50);
const run = Date.now().toString(36);

const stack = await startLocalStack({ queueVisibilitySeconds: 5 });
// Imported after the stack has pointed this process at it: the same modules (and client) its handlers use.
const { dynamo } = await import('#db/client');
const { applyUsageRecords } = await import('#domain/ledger/rollups');
const { ledgerPartitions, LEDGER_SHARDS, ledgerShard } = await import('#db/items/ledger-entry');
const { agencyDays } = await import('#db/items/usage-rollup');
const { listTransactions } = await import('#domain/ledger/history');
const { QueryCommand } = await import('@aws-sdk/lib-dynamodb');
const { db, table } = await import('#db/client');

/** What the table was asked to do while counting: rollup writes (and their units), BatchGets, queries. */
const seen = { puts: 0, units: 0, batchGets: 0, queries: 0, evaluated: 0 };
dynamo.middlewareStack.add(
  (next, context) => async (args) => {
    const input = args.input as { Item?: Record<string, any>; RequestItems?: unknown };
    if (context.commandName === 'PutItemCommand' && String(input.Item?.pk?.S ?? input.Item?.pk).startsWith('ROLLUP#')) {
      const item = input.Item as Record<string, any>;
      const kb = Math.max(1, Math.ceil(itemSize(unmarshalled(item)) / 1024));
      seen.puts++;
      seen.units += item.gsi1pk ? 2 * kb : kb;
    }
    if (context.commandName === 'BatchGetItemCommand') seen.batchGets++;
    const out: any = await next(args);
    if (context.commandName === 'QueryCommand') {
      seen.queries++;
      seen.evaluated += out.output.ScannedCount ?? 0;
    }
    return out;
  },
  { step: 'initialize', name: 'bench-count' },
);
const { unmarshall } = await import('@aws-sdk/util-dynamodb');
function unmarshalled(item: Record<string, any>): Record<string, unknown> {
  return 'S' in (item.pk ?? {}) ? unmarshall(item) : item;
}
const reset = () => Object.assign(seen, { puts: 0, units: 0, batchGets: 0, queries: 0, evaluated: 0 });
const perDebit = (n: number, of: number) => (n / of).toFixed(3);

try {
  const api = apiOf(stack);
  const agency = await agencyWithPool(api, stack.platformApiKey, run, stack.sesUrl);
  const subs = await subAccounts(api, agency, SUBS, `r${run}`);

  // 1. Through the API.
  reset();
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let i = next++; i < DEBITS; i = next++) {
        await api(
          'POST',
          `/v1/accounts/${subs[i % subs.length]}/usage`,
          { type: i % 2 ? 'ai_response' : 'campaign_message', quantity: 1 },
          { authorization: `Bearer ${stack.platformApiKey}`, 'idempotency-key': `r-${run}-${i}` },
        );
      }
    }),
  );
  const today = new Date().toISOString().slice(0, 10);
  for (let waited = 0; ; waited += 250) {
    const total = (await agencyDays(agency.agencyId, today, today)).reduce((n, d) => n + d.total, 0);
    if (total >= DEBITS) break;
    if (waited > 60_000) throw new Error(`the rollups counted ${total} of ${DEBITS}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  console.log(`\n1. Through the API: ${DEBITS} debits over ${SUBS} sub-accounts, the local stream (one shard), 5 s windows`);
  console.log(
    `   aggregator: ${seen.puts} writes (${perDebit(seen.puts, DEBITS)} a debit), ${seen.units} write units (${perDebit(seen.units, DEBITS)} a debit), ${seen.batchGets} BatchGets`,
  );
  console.log('   today, in the debit transaction: the day counter and the meter, 2 of its items (4+ write units) a debit');

  // 2. The aggregator on batches as Lambda hands them over at AWS scale.
  const entries: Record<string, any>[] = [];
  for (const pk of ledgerPartitions(agency.agencyId)) {
    let start: Record<string, unknown> | undefined;
    do {
      const out = await db.send(
        new QueryCommand({
          TableName: table(),
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': pk },
          ExclusiveStartKey: start,
        }),
      );
      entries.push(...(out.Items ?? []).filter((i) => i.kind === 'ledger_entry' && i.type !== 'top_up'));
      start = out.LastEvaluatedKey;
    } while (start);
  }
  const shardOf = (e: Record<string, any>) =>
    Number(ledgerShard({ operation: 'usage', accountId: e.accountId, idempotencyKey: e.idempotencyKey }));

  /** The debits as stream records of a fresh agency (so nothing is counted twice), handed over per shard in batches. */
  async function replay(label: string, debits: Record<string, any>[], shards: number, batchSize = 2000) {
    const agencyId = newId('agency');
    const accounts = new Map<string, string>();
    const byShard = new Map<number, DynamoDBRecord[]>();
    debits.forEach((e, i) => {
      const accountId = accounts.get(e.accountId) ?? newId('subAccount');
      accounts.set(e.accountId, accountId);
      const image = { ...e, agencyId, accountId, subAccountId: accountId, id: newId('transaction') };
      const shard = shardOf(e) % shards;
      const list = byShard.get(shard) ?? [];
      list.push({ eventName: 'INSERT', dynamodb: { NewImage: marshall(image) as never, SequenceNumber: String(1000 + i) } });
      byShard.set(shard, list);
    });
    reset();
    const stats = await Promise.all(
      [...byShard].map(async ([shard, records]) => {
        const out = { writes: 0, conflicts: 0, batches: 0 };
        for (let i = 0; i < records.length; i += batchSize) {
          const s = await applyUsageRecords(`shard-${shard}`, records.slice(i, i + batchSize));
          out.writes += s.writes;
          out.conflicts += s.conflicts;
          out.batches++;
        }
        return out;
      }),
    );
    const sum = (k: 'writes' | 'conflicts' | 'batches') => stats.reduce((n, s) => n + s[k], 0);
    console.log(
      `   ${label.padEnd(58)} ${String(sum('batches')).padStart(4)} batches  ${String(seen.puts).padStart(5)} writes (${perDebit(seen.puts, debits.length)}/debit, ${sum('conflicts')} lost races)  ${String(seen.units).padStart(5)} WU (${perDebit(seen.units, debits.length)}/debit)`,
    );
  }

  console.log('\n2. The aggregator on stream batches as Lambda hands them over (records spread over shards by ledger partition)');
  for (const shards of [1, 8, LEDGER_SHARDS])
    await replay(`${DEBITS} debits, ${SUBS} subs, one window, ${shards} shards`, entries, shards);
  // One 5 s window at 10,000 debits/s: 50,000 debits, each shard's share in one batch (≤ 2,000 a batch).
  const many = (n: number, subsOf: (i: number) => string) =>
    Array.from({ length: n }, (_, i) => ({ ...entries[i % entries.length], accountId: subsOf(i), idempotencyKey: `w-${i}` }));
  await replay(
    `50,000 debits (5 s at 10,000/s), ${SUBS} subs, 32 shards`,
    many(50_000, (i) => subs[i % subs.length] as string),
    32,
  );
  await replay(
    '50,000 debits (5 s at 10,000/s), one sub-account, 32 shards',
    many(50_000, () => subs[0] as string),
    32,
  );

  // 3. Reads per page of the history.
  reset();
  const pages: { queries: number; evaluated: number }[] = [];
  let cursor: string | undefined;
  for (let p = 0; p < 10; p++) {
    const before = { ...seen };
    const page = await listTransactions(agency.agencyId, { limit: 50, cursor } as never);
    pages.push({ queries: seen.queries - before.queries, evaluated: seen.evaluated - before.evaluated });
    cursor = page.nextCursor ?? undefined;
  }
  const avg = (k: 'queries' | 'evaluated') => (pages.reduce((n, p) => n + p[k], 0) / pages.length).toFixed(1);
  console.log(`\n3. The history, pages of 50 over ${LEDGER_SHARDS} partitions (before: 1 query reading 50 entries)`);
  console.log(
    `   ${avg('queries')} queries and ${avg('evaluated')} entries read a page on average (at most ${Math.max(...pages.map((p) => p.queries))} and ${Math.max(...pages.map((p) => p.evaluated))})`,
  );
} finally {
  await stack.stop();
}
