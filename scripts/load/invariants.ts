import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { ledgerPartitions } from '../../packages/db/items/ledger-entry';
import { usageTypes } from '../../packages/domain/ledger/schemas';

/**
 * The ledger's invariants, checked against the items as the table holds them (never through
 * the API's own views): every balance equals the sum of its entries (and its lifetime totals
 * the sums of its credits and debits), nothing is negative, one entry per idempotency key and
 * balance, the dashboards' day counters equal the usage entries, and each sub-account's
 * monthly meter equals its usage entries of that month. A pure function over items, so a test
 * can hand it a corrupted copy; `scanTable` and `agencyItems` read the items.
 */

type Item = Record<string, any>;

export interface Violation {
  rule:
    | 'balance = Σ entries'
    | 'lifetime totals = Σ entries'
    | 'nothing negative'
    | 'one entry per idempotency key'
    | 'day counters = usage entries'
    | 'meter = usage entries';
  /** Which item: its table key. */
  where: string;
  detail: string;
}

export interface InvariantReport {
  balances: number;
  entries: number;
  usageDays: number;
  meters: number;
  violations: Violation[];
}

const usage = new Set<string>(usageTypes);
const isUsage = (entry: Item) => usage.has(entry.type);
/** The balance an entry moved: the agency pool, or a sub-account's wallet. */
const balanceOf = (entry: Item) =>
  entry.balanceKind === 'pool' ? `ACCOUNT#${entry.agencyId}/POOL` : `ACCOUNT#${entry.accountId}/WALLET`;
const keyOf = (item: Item) => `${item.pk}/${item.sk}`;

function add<K>(map: Map<K, number>, key: K, n: number) {
  map.set(key, (map.get(key) ?? 0) + n);
}

export function checkLedger(items: readonly Item[]): InvariantReport {
  const violations: Violation[] = [];
  const entries = items.filter((i) => i.kind === 'ledger_entry');
  const balances = items.filter((i) => i.kind === 'balance');
  const days = items.filter((i) => i.kind === 'usage_day');
  const meters = items.filter((i) => i.kind === 'account' && i.type === 'sub_account' && i.meterMonth);

  const sum = new Map<string, number>();
  const credited = new Map<string, number>();
  const debited = new Map<string, number>();
  const perKey = new Map<string, Item[]>();
  for (const e of entries) {
    const b = balanceOf(e);
    add(sum, b, e.credits);
    if (e.credits > 0) add(credited, b, e.credits);
    else add(debited, b, -e.credits);
    if (!(e.balanceAfter >= 0))
      violations.push({ rule: 'nothing negative', where: keyOf(e), detail: `balanceAfter ${e.balanceAfter}` });
    // A key is scoped by operation and account (usage types share one operation); a grant's two
    // entries (pool and wallet) share the key and differ by balance.
    const scope = `${b}|${e.accountId}|${isUsage(e) ? 'usage' : e.type}|${e.idempotencyKey}`;
    perKey.set(scope, [...(perKey.get(scope) ?? []), e]);
  }
  for (const [scope, list] of perKey) {
    if (list.length > 1)
      violations.push({
        rule: 'one entry per idempotency key',
        where: scope,
        detail: `${list.length} entries: ${list.map(keyOf).join(', ')}`,
      });
  }

  const seen = new Set<string>();
  for (const b of balances) {
    const id = keyOf(b);
    seen.add(id);
    const expected = sum.get(id) ?? 0;
    if (b.balance !== expected)
      violations.push({ rule: 'balance = Σ entries', where: id, detail: `balance ${b.balance}, entries sum to ${expected}` });
    if (!(b.balance >= 0)) violations.push({ rule: 'nothing negative', where: id, detail: `balance ${b.balance}` });
    const [inn, out] = [credited.get(id) ?? 0, debited.get(id) ?? 0];
    if ((b.purchased ?? 0) !== inn || (b.consumed ?? 0) !== out)
      violations.push({
        rule: 'lifetime totals = Σ entries',
        where: id,
        detail: `purchased ${b.purchased ?? 0} / consumed ${b.consumed ?? 0}, entries ${inn} / ${out}`,
      });
  }
  for (const [id, total] of sum) {
    if (!seen.has(id))
      violations.push({ rule: 'balance = Σ entries', where: id, detail: `no balance item, entries sum to ${total}` });
  }

  // Usage entries by day and account (and type), and by month and sub-account.
  const byDay = new Map<string, number>();
  const byMonth = new Map<string, number>();
  const poolByMonth = new Map<string, number>();
  for (const e of entries.filter(isUsage)) {
    const credits = -e.credits;
    const date = String(e.createdAt).slice(0, 10);
    add(byDay, `USAGE#${e.agencyId}/${date}#${e.accountId}`, credits);
    add(byDay, `USAGE#${e.agencyId}/${date}#${e.accountId}|${e.type}`, credits);
    const month = `${e.accountId}|${date.slice(0, 7)}`;
    add(byMonth, month, credits);
    if (e.balanceKind === 'pool') add(poolByMonth, month, credits);
  }
  const counted = new Set<string>();
  for (const d of days) {
    const id = keyOf(d);
    counted.add(id);
    for (const [field, expected] of [
      ['total', byDay.get(id) ?? 0] as const,
      ...usageTypes.map((t) => [t, byDay.get(`${id}|${t}`) ?? 0] as const),
    ]) {
      if ((d[field] ?? 0) !== expected)
        violations.push({
          rule: 'day counters = usage entries',
          where: id,
          detail: `${field} ${d[field] ?? 0}, entries ${expected}`,
        });
    }
  }
  for (const [id, credits] of byDay) {
    if (!id.includes('|') && !counted.has(id))
      violations.push({ rule: 'day counters = usage entries', where: id, detail: `no counter, entries ${credits}` });
  }

  for (const m of meters) {
    const month = `${m.id}|${m.meterMonth}`;
    const [used, pool] = [byMonth.get(month) ?? 0, poolByMonth.get(month) ?? 0];
    const problems: string[] = [];
    if ((m.meterUsed ?? 0) !== used) problems.push(`meterUsed ${m.meterUsed ?? 0}, entries ${used}`);
    if ((m.meterPoolUsed ?? 0) !== pool) problems.push(`meterPoolUsed ${m.meterPoolUsed ?? 0}, pool entries ${pool}`);
    if (typeof m.monthlyCreditLimit === 'number' && m.meterRemaining !== m.monthlyCreditLimit - (m.meterPoolUsed ?? 0))
      problems.push(`meterRemaining ${m.meterRemaining}, limit ${m.monthlyCreditLimit} − meterPoolUsed ${m.meterPoolUsed ?? 0}`);
    if (problems.length)
      violations.push({ rule: 'meter = usage entries', where: `${keyOf(m)} (${m.meterMonth})`, detail: problems.join('; ') });
  }

  return { balances: balances.length, entries: entries.length, usageDays: days.length, meters: meters.length, violations };
}

/** Every item of the table, strongly consistent (a check after the load, not a request path). */
export async function scanTable(db: DynamoDBDocumentClient, tableName: string): Promise<Item[]> {
  const items: Item[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await db.send(new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: start }));
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

async function query(db: DynamoDBDocumentClient, tableName: string, pk: string, index?: 'gsi1'): Promise<Item[]> {
  const items: Item[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await db.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: index,
        KeyConditionExpression: index ? 'gsi1pk = :pk' : 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ConsistentRead: index ? undefined : true,
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

/** The ledger items of some agencies only (a shared table where other tenants are busy): their partitions and their sub-accounts'. */
export async function agencyItems(db: DynamoDBDocumentClient, tableName: string, agencyIds: readonly string[]): Promise<Item[]> {
  const parts = await Promise.all(
    agencyIds.map(async (agencyId) => {
      const subs = await query(db, tableName, `AGENCY#${agencyId}#SUBS`, 'gsi1');
      const partitions = [
        `ACCOUNT#${agencyId}`,
        ...ledgerPartitions(agencyId),
        `USAGE#${agencyId}`,
        ...subs.map((s) => `ACCOUNT#${s.id}`),
      ];
      return (await Promise.all(partitions.map((pk) => query(db, tableName, pk)))).flat();
    }),
  );
  return parts.flat();
}
