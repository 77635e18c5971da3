import { AppError } from '#core/errors';
import { idBoundAt } from '#core/ids';
import {
  type EntryList,
  entryCursor,
  entryReader,
  LEDGER_SHARDS,
  type LedgerEntryItem,
  listedByType,
} from '#db/items/ledger-entry';
import { entryView } from './entries';
import type { TransactionsQuery } from './schemas';
import { timeRange } from './time-range';

type EntryView = ReturnType<typeof entryView>;

/**
 * Pages filtered at read time may read many entries that do not match (DynamoDB filters as it
 * reads): such a page reads at most this many entries before it answers what it found with a
 * cursor (a full page when the matches are not rarer than one in a hundred or so).
 */
export const filteredPageBudget = (limit: number, rounds = 100) => rounds * Math.max(limit, LEDGER_SHARDS);

/**
 * The list a history query reads and the filter applied as DynamoDB reads it. Time bounds are
 * keys. A type other than usage is a list of its own (gsi3: top-ups, grants, purchases, refunds,
 * disputes, rare among the debits), else a sub-account is (gsi2), else the agency's whole
 * ledger is read: either way a page of that list reads what it returns. The other filters are
 * applied inside that list. Usage types, campaign and contact have no list of their own: each
 * would be one more index copy, one more write unit, on every debit (docs/performance.md).
 */
function historyQuery(q: TransactionsQuery) {
  const { start, end } = timeRange(q.from, q.to);
  const list: EntryList =
    q.type !== undefined && listedByType(q.type)
      ? { type: q.type }
      : q.subAccountId !== undefined
        ? { subAccountId: q.subAccountId }
        : 'all';
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const filters: string[] = [];
  for (const field of ['subAccountId', 'campaignId', 'contactId', 'type'] as const) {
    const value = q[field];
    // What the list itself already is, it does not filter again.
    if (value === undefined || (list !== 'all' && field in list)) continue;
    names[`#${field}`] = field;
    values[`:${field}`] = value;
    filters.push(`#${field} = :${field}`);
  }
  return {
    range: [idBoundAt('transaction', start, false), idBoundAt('transaction', end, true)] as [string, string],
    filter: filters.length ? { expression: filters.join(' AND '), names, values } : undefined,
    list,
  };
}

/**
 * The agency's transaction history, newest first, merged from its shards. Time bounds are key
 * conditions; the other filters are applied by DynamoDB as it reads, so a page may need many
 * reads: it stops at `limit` rows or at its read budget, and the cursor resumes exactly there;
 * a page that ends the list has no cursor (never one to an empty page).
 */
export async function listTransactions(agencyId: string, q: TransactionsQuery, budget = filteredPageBudget(q.limit)) {
  const { range, filter, list } = historyQuery(q);
  const reader = entryReader(agencyId, range, filter, { pageRows: q.limit, cursor: q.cursor, list });
  const readBudget = filter ? budget : undefined;
  const items = await reader.take(q.limit, readBudget);
  const more = await reader.hasMore(readBudget);
  return { items: items.map(entryView), nextCursor: more ? entryCursor(reader.resumeBelow()) : null };
}

/**
 * What one CSV download may cost: entries read (matching the filters or not) and bytes of
 * answer as Lambda sends it (the CSV inside a JSON envelope, where every quote is escaped):
 * 3 MiB leaves the rest of Lambda's 6 MB response limit unused on purpose.
 */
export const exportBudget = { entries: 10_000, bytes: 3 * 1024 * 1024 };
const EXPORT_PAGE = 200;

/**
 * The CSV export: the matching entries, newest first, from the cursor on, until the read or
 * the size budget is spent; `nextCursor` (the `x-next-cursor` header) carries on exactly after
 * the last row sent, so the downloads together hold every entry once.
 */
export async function exportTransactions(agencyId: string, q: TransactionsQuery, budget = exportBudget) {
  const { range, filter, list } = historyQuery(q);
  const reader = entryReader(agencyId, range, filter, { pageRows: EXPORT_PAGE, cursor: q.cursor, list });
  const rows: EntryView[] = [];
  let bytes = Buffer.byteLength(JSON.stringify(csvHeader));
  let last: LedgerEntryItem | undefined;
  for (;;) {
    const page = await reader.take(EXPORT_PAGE, filter ? budget.entries : undefined);
    for (const item of page) {
      const row = entryView(item);
      bytes += Buffer.byteLength(JSON.stringify(csvLine(row)));
      // Stop before this row (the next download starts with it); a first row is always sent.
      if (bytes > budget.bytes && last) return { rows, nextCursor: entryCursor(last.id) };
      rows.push(row);
      last = item;
    }
    if (page.length < EXPORT_PAGE) break; // the end, or the read budget spent
  }
  const more = await reader.hasMore(filter ? budget.entries : undefined);
  return { rows, nextCursor: more ? entryCursor(reader.resumeBelow()) : null };
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

const csvHeader = `${csvColumns.join(',')}\r\n`;

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  // Quote always; neutralise spreadsheet formulas in free-text fields.
  const safe = /^[=+\-@\t\r]/.test(s) && typeof v === 'string' ? `'${s}` : s;
  return `"${safe.replace(/"/g, '""')}"`;
}

const csvLine = (row: EntryView) => `${csvColumns.map((c) => csvCell(row[c])).join(',')}\r\n`;

export const toCsv = (rows: EntryView[]): string => csvHeader + rows.map(csvLine).join('');

export const csvNeedsFeature = () => new AppError('feature_not_enabled', 'CSV export needs the usage_export feature');
