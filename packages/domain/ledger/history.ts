import { AppError } from '../../core/errors';
import { idBoundAt } from '../../core/ids';
import { listEntries } from '../../db/items/ledger-entry';
import { entryView } from './entries';
import type { TransactionsQuery } from './schemas';
import { timeRange } from './time-range';

/** Filtered pages may need several reads (DynamoDB filters as it reads): at most this many per call. */
const MAX_READS_PER_CALL = 10;

/**
 * The agency's transaction history, newest first. Time bounds are key conditions; the other
 * filters are applied by DynamoDB as it reads, so a page may need several reads: it stops at
 * `limit` rows or after a bounded number of reads, and the cursor resumes exactly there.
 */
export async function listTransactions(agencyId: string, q: TransactionsQuery) {
  const { start, end } = timeRange(q.from, q.to);
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const filters: string[] = [];
  for (const field of ['subAccountId', 'campaignId', 'contactId', 'type'] as const) {
    const value = q[field];
    if (value === undefined) continue;
    names[`#${field}`] = field;
    values[`:${field}`] = value;
    filters.push(`#${field} = :${field}`);
  }
  const page = await listEntries(
    agencyId,
    [idBoundAt('transaction', start, false), idBoundAt('transaction', end, true)],
    filters.length ? { expression: filters.join(' AND '), names, values } : undefined,
    { limit: q.limit, cursor: q.cursor, maxReads: MAX_READS_PER_CALL },
  );
  return { items: page.items.map(entryView), nextCursor: page.nextCursor };
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
