import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { AppError } from '../../core/errors';
import { idBoundAt } from '../../core/ids';
import { db, table } from '../../db/client';
import { decodeCursor, encodeCursor, foreignCursor, rejectForeignCursor } from '../../db/cursor';
import { keys, tableDefinition } from '../../db/schema';
import { entryView, type LedgerEntryItem } from './entries';
import type { TransactionsQuery } from './schemas';
import { timeRange } from './time-range';

const MAX_PAGES_PER_CALL = 10;

/**
 * The agency's transaction history, newest first. Time bounds are key conditions; the other
 * filters are applied by DynamoDB as it reads, so a page may need several reads: it stops at
 * `limit` rows or after a bounded number of reads, and the cursor resumes exactly there.
 */
export async function listTransactions(agencyId: string, q: TransactionsQuery) {
  const { start, end } = timeRange(q.from, q.to);
  const ix = tableDefinition.indexes[0];
  const filters: string[] = [];
  const names: Record<string, string> = { '#pk': ix.partitionKey, '#sk': ix.sortKey };
  const values: Record<string, unknown> = {
    ':pk': keys.ledgerOf(agencyId).gsi1pk,
    ':from': idBoundAt('transaction', start, false),
    ':to': idBoundAt('transaction', end, true),
  };
  for (const field of ['subAccountId', 'campaignId', 'contactId', 'type'] as const) {
    const value = q[field];
    if (value === undefined) continue;
    names[`#${field}`] = field;
    values[`:${field}`] = value;
    filters.push(`#${field} = :${field}`);
  }
  const items: LedgerEntryItem[] = [];
  let startKey = decodeCursor(q.cursor);
  if (startKey && startKey[ix.partitionKey] !== values[':pk']) throw foreignCursor();
  for (let page = 0; page < MAX_PAGES_PER_CALL && items.length < q.limit; page++) {
    const out = await db
      .send(
        new QueryCommand({
          TableName: table(),
          IndexName: ix.name,
          KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
          FilterExpression: filters.length ? filters.join(' AND ') : undefined,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ScanIndexForward: false,
          Limit: q.limit - items.length,
          ExclusiveStartKey: startKey,
        }),
      )
      .catch(rejectForeignCursor(q.cursor));
    items.push(...((out.Items ?? []) as LedgerEntryItem[]));
    startKey = out.LastEvaluatedKey as Record<string, string> | undefined;
    if (!startKey) break;
  }
  return { items: items.map(entryView), nextCursor: encodeCursor(startKey) };
}

const EXPORT_MAX_ROWS = 10_000;

/**
 * The CSV export: every matching entry, newest first, from the cursor on, up to 10,000 rows
 * per download (`x-next-cursor` carries on from there).
 */
export async function exportTransactions(agencyId: string, q: TransactionsQuery) {
  const rows: ReturnType<typeof entryView>[] = [];
  let cursor = q.cursor;
  do {
    const page = await listTransactions(agencyId, { ...q, cursor, limit: 200 });
    rows.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && rows.length < EXPORT_MAX_ROWS);
  return { rows, nextCursor: cursor ?? null };
}

const csvColumns = [
  'id',
  'createdAt',
  'type',
  'credits',
  'balanceAfter',
  'balanceType',
  'accountId',
  'subAccountId',
  'contactId',
  'campaignId',
  'conversationId',
  'reference',
  'actor',
] as const;

export function toCsv(rows: ReturnType<typeof entryView>[]): string {
  const cell = (v: unknown) => {
    const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    // Quote always; neutralise spreadsheet formulas in free-text fields.
    const safe = /^[=+\-@\t\r]/.test(s) && typeof v === 'string' ? `'${s}` : s;
    return `"${safe.replace(/"/g, '""')}"`;
  };
  return `${[csvColumns.join(','), ...rows.map((r) => csvColumns.map((c) => cell(r[c])).join(','))].join('\r\n')}\r\n`;
}

export const csvNeedsFeature = () => new AppError('feature_not_enabled', 'CSV export needs the usage_export feature');
