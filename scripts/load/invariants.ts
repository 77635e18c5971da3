import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { ledgerPartitions } from '#db/items/ledger-entry';
import { usageTypes } from '#domain/ledger/schemas';

/**
 * The ledger's invariants, checked against the items as the table holds them (never through
 * the API's own views): every balance (its item plus the lanes it set aside credits in) equals
 * the sum of its entries (and its lifetime totals the sums of its credits and debits), nothing
 * is negative, one entry per idempotency key and balance, the usage rollups equal the usage
 * entries (check once the stream is caught up), and each limited sub-account's monthly meter
 * equals its pool usage entries of that month plus the allowance its open lanes hold. A pure
 * function over items, so a test can hand it a corrupted copy; `scanTable` and `agencyItems`
 * read the items.
 */

type Item = Record<string, any>;

export interface Violation {
  rule:
    | 'balance = Σ entries'
    | 'lifetime totals = Σ entries'
    | 'nothing negative'
    | 'one entry per idempotency key'
    | 'usage rollups = usage entries'
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
  const days = items.filter((i) => i.kind === 'account_usage_day');
  const lanes = items.filter((i) => i.kind === 'lane');
  const meters = items.filter((i) => i.kind === 'account_meter' && i.meterMonth && typeof i.monthlyCreditLimit === 'number');
  // A lane's credits are its balance's, set aside; what its debits took is counted in its `spent`.
  const inLanes = new Map<string, number>();
  const spentInLanes = new Map<string, number>();
  const allowanceInLanes = new Map<string, number>();
  for (const l of lanes) {
    const head = `${l.headPk}/${l.headSk}`;
    add(inLanes, head, l.credits);
    add(spentInLanes, head, l.spent ?? 0);
    if (!(l.credits >= 0) || !((l.allowance ?? 0) >= 0))
      violations.push({
        rule: 'nothing negative',
        where: keyOf(l),
        detail: `lane credits ${l.credits}, allowance ${l.allowance}`,
      });
    if (String(l.scope).startsWith('L') && l.month)
      add(allowanceInLanes, `${String(l.scope).slice(1)}|${l.month}`, l.allowance ?? 0);
  }

  const sum = new Map<string, number>();
  const credited = new Map<string, number>();
  const debited = new Map<string, number>();
  const perKey = new Map<string, Item[]>();
  for (const e of entries) {
    const b = balanceOf(e);
    add(sum, b, e.credits);
    if (e.credits > 0) add(credited, b, e.credits);
    else add(debited, b, -e.credits);
    // null: the balance had lanes open, so no single running figure was true (ledger-entry.ts).
    if (e.balanceAfter !== null && !(e.balanceAfter >= 0))
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
    const balance = b.balance + (inLanes.get(id) ?? 0);
    const held = inLanes.has(id) ? ` (${b.balance} + ${inLanes.get(id)} in lanes)` : '';
    if (balance !== expected)
      violations.push({
        rule: 'balance = Σ entries',
        where: id,
        detail: `balance ${balance}${held}, entries sum to ${expected}`,
      });
    if (!(b.balance >= 0)) violations.push({ rule: 'nothing negative', where: id, detail: `balance ${b.balance}` });
    const [inn, out] = [credited.get(id) ?? 0, debited.get(id) ?? 0];
    const consumed = (b.consumed ?? 0) + (spentInLanes.get(id) ?? 0);
    if ((b.purchased ?? 0) !== inn || consumed !== out)
      violations.push({
        rule: 'lifetime totals = Σ entries',
        where: id,
        detail: `purchased ${b.purchased ?? 0} / consumed ${consumed}, entries ${inn} / ${out}`,
      });
  }
  for (const [id, total] of sum) {
    if (!seen.has(id))
      violations.push({ rule: 'balance = Σ entries', where: id, detail: `no balance item, entries sum to ${total}` });
  }

  // Usage entries by day and account (and type), and pool usage by month and sub-account.
  const byDay = new Map<string, number>();
  const poolByMonth = new Map<string, number>();
  for (const e of entries.filter(isUsage)) {
    const credits = -e.credits;
    const date = String(e.createdAt).slice(0, 10);
    add(byDay, `ROLLUP#ACCOUNT#${e.accountId}/DAY#${date}`, credits);
    add(byDay, `ROLLUP#ACCOUNT#${e.accountId}/DAY#${date}|${e.type}`, credits);
    if (e.balanceKind === 'pool') add(poolByMonth, `${e.accountId}|${date.slice(0, 7)}`, credits);
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
          rule: 'usage rollups = usage entries',
          where: id,
          detail: `${field} ${d[field] ?? 0}, entries ${expected}`,
        });
    }
  }
  for (const [id, credits] of byDay) {
    if (!id.includes('|') && !counted.has(id))
      violations.push({ rule: 'usage rollups = usage entries', where: id, detail: `no rollup, entries ${credits}` });
  }

  for (const m of meters) {
    const month = `${m.accountId}|${m.meterMonth}`;
    // What the limit gave out: to debits of the pool, and set aside (not yet spent) in lanes.
    const [pool, aside] = [poolByMonth.get(month) ?? 0, allowanceInLanes.get(month) ?? 0];
    const problems: string[] = [];
    if ((m.meterPoolUsed ?? 0) !== pool + aside)
      problems.push(`meterPoolUsed ${m.meterPoolUsed ?? 0}, pool entries ${pool} + ${aside} set aside in lanes`);
    if (m.meterRemaining !== m.monthlyCreditLimit - (m.meterPoolUsed ?? 0))
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
      const accounts = [agencyId, ...subs.map((s) => s.id as string)];
      const partitions = [
        ...ledgerPartitions(agencyId),
        `ROLLUP#AGENCY#${agencyId}`,
        ...accounts.flatMap((id) => [`ACCOUNT#${id}`, `ROLLUP#ACCOUNT#${id}`]),
      ];
      const items = (await Promise.all(partitions.map((pk) => query(db, tableName, pk)))).flat();
      // Each balance's lanes, by slot (lane.ts): one partition each.
      const lanePartitions = items
        .filter((i) => i.kind === 'balance' && i.laneSlots > 0)
        .flatMap((b) => Array.from({ length: b.laneSlots }, (_, slot) => `LANE#${b.pk}#${b.sk}#${slot}`));
      return [...items, ...(await Promise.all(lanePartitions.map((pk) => query(db, tableName, pk)))).flat()];
    }),
  );
  return parts.flat();
}
