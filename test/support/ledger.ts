import { randomUUID } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { type BalanceItem, poolKey, walletKey } from '#db/items/balance';
import { getLanes } from '#db/items/lane';
import { ledgerPartitions } from '#db/items/ledger-entry';
import type { EntryType } from '#db/vocabulary';
import { exactBalance } from '#domain/ledger/balances';
import { type ApiResponse, api, signUpAgency, uniq, uniqueEmail } from './api';
import { pipelineIdle } from './pipeline';
import { stack } from './stack';
import { getRaw, testDb } from './table';

/**
 * Ledger helpers for tests: the money-moving calls over HTTP (each with a fresh
 * Idempotency-Key unless one is given), and the ledger as the table holds it, so a test can
 * check what a request did (or did not) move without trusting the API's own views.
 */

export type UsageType = 'ai_response' | 'campaign_message';

export interface UsageBody {
  type: UsageType;
  quantity: number;
  contactId?: string;
  campaignId?: string;
  conversationId?: string;
}

const idem = (key?: string) => ({ 'idempotency-key': key ?? `test-${randomUUID()}` });

/** Platform top-up of an agency's pool (platform key). */
export function topUp(
  agencyId: string,
  credits: number,
  opts: { key?: string; reference?: string; clock?: string } = {},
): Promise<ApiResponse> {
  return api('POST', `/v1/admin/agencies/${agencyId}/credits`, {
    token: stack.platformApiKey,
    headers: idem(opts.key),
    body: { credits, reference: opts.reference ?? uniq('topup') },
    clock: opts.clock,
  });
}

/** Usage on an account: by the platform key unless another token (an assist token) is given. */
export function chargeUsage(
  accountId: string,
  body: unknown,
  opts: { key?: string; token?: string; clock?: string } = {},
): Promise<ApiResponse> {
  return api('POST', `/v1/accounts/${accountId}/usage`, {
    token: opts.token ?? stack.platformApiKey,
    headers: idem(opts.key),
    body,
    clock: opts.clock,
  });
}

/** An agency grant into a reselling sub-account's wallet. */
export function grant(
  agencyToken: string,
  subAccountId: string,
  credits: number,
  opts: { key?: string } = {},
): Promise<ApiResponse> {
  return api('POST', `/v1/sub-accounts/${subAccountId}/credits/grants`, {
    token: agencyToken,
    headers: idem(opts.key),
    body: { credits },
  });
}

export function patchSub(agencyToken: string, subAccountId: string, body: Record<string, unknown>): Promise<ApiResponse> {
  return api('PATCH', `/v1/sub-accounts/${subAccountId}`, { token: agencyToken, body });
}

/** A sub-account without logging its client in (one password hash fewer than `createSubAccount`). */
export async function createSubAccountOnly(agencyToken: string, name = uniq('Client')): Promise<string> {
  const res = await api('POST', '/v1/sub-accounts', { token: agencyToken, body: { name, email: uniqueEmail('client') } });
  if (res.status !== 201) throw new Error(`create sub-account failed: ${res.status} ${res.text}`);
  return res.body.subAccount.id;
}

/** Fails with the response in the message, so a broken setup step says what happened. */
export function expectStatus(res: ApiResponse, status: number, what = 'request'): ApiResponse {
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${res.text}`);
  return res;
}

/** Every item of one partition, strongly consistent. */
async function partition(pk: string): Promise<Record<string, any>[]> {
  const items: Record<string, any>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await testDb.send(
      new QueryCommand({
        TableName: stack.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

export interface StoredEntry {
  id: string;
  type: EntryType;
  credits: number;
  balanceAfter: number | null;
  balanceKind: 'pool' | 'wallet';
  accountId: string;
  subAccountId: string | null;
  [field: string]: unknown;
}

/** Every item of the agency's ledger partitions (`LEDGER#<agencyId>#<nn>`, its shards): entries and refusals. */
const ledgerItems = async (agencyId: string) => (await Promise.all(ledgerPartitions(agencyId).map(partition))).flat();

/** The refusals remembered under the agency's idempotency keys (`sk` ends with the key). */
export async function ledgerRefusals(agencyId: string): Promise<Record<string, any>[]> {
  return (await ledgerItems(agencyId)).filter((i) => i.kind === 'ledger_refusal');
}

/** The agency's ledger entries as stored (items in its ledger shards), oldest first by id. */
export async function ledgerEntries(agencyId: string): Promise<StoredEntry[]> {
  // Only entries: refusals remembered under idempotency keys share the partitions but move nothing.
  const items = (await ledgerItems(agencyId)).filter((i) => i.kind === 'ledger_entry') as StoredEntry[];
  return items.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export interface UsageDayRow {
  date: string;
  total: number;
  ai_response?: number;
  campaign_message?: number;
}

/** The agency's usage by day as the dashboards read it: its day rollups (built from the stream; wait for the pipeline first). */
export async function usageDayRows(agencyId: string): Promise<UsageDayRow[]> {
  return (await partition(`ROLLUP#AGENCY#${agencyId}`)) as UsageDayRow[];
}

/** One account's usage by day (its day rollups, with `accountId`): wait for the pipeline first. */
export async function accountDayRows(accountId: string): Promise<(UsageDayRow & { accountId: string })[]> {
  return (await partition(`ROLLUP#ACCOUNT#${accountId}`)).filter((r) => r.kind === 'account_usage_day') as (UsageDayRow & {
    accountId: string;
  })[];
}

/** A balance item's open lanes as stored (the credits set aside for containers). */
async function lanesOf(head: { pk: string; sk: string }): Promise<Record<string, any>[]> {
  const item = (await getRaw(head.pk, head.sk)) as BalanceItem | undefined;
  return (await getLanes(head, item?.laneSlots ?? 0)) as unknown as Record<string, any>[];
}

export interface BalanceRow {
  balance: number;
  version: number;
  purchased?: number;
  consumed?: number;
}

export const poolItem = (agencyId: string) => getRaw(`ACCOUNT#${agencyId}`, 'POOL') as Promise<BalanceRow | undefined>;
export const walletItem = (subAccountId: string) =>
  getRaw(`ACCOUNT#${subAccountId}`, 'WALLET') as Promise<BalanceRow | undefined>;
export const accountItem = (accountId: string) =>
  getRaw(`ACCOUNT#${accountId}`, 'ACCOUNT') as Promise<Record<string, any> | undefined>;
/** A limited sub-account's monthly meter (packages/db/items/meter.ts). */
export const meterItem = (accountId: string) =>
  getRaw(`ACCOUNT#${accountId}`, 'METER') as Promise<Record<string, any> | undefined>;

/**
 * What "nothing was charged" compares: the exact balances, entries and usage rollups of one
 * agency in brief, and `items`, every item a money move writes, deep: the pool, the given
 * sub-accounts' wallets and account items (their monthly meters), the lanes of those balances,
 * every ledger entry and the agency's day rollups. Refusals remembered under an idempotency key
 * (`ledger_refusal`) are left out: writing them is what a refused money call is meant to do.
 * Taken once the pipeline is idle: the rollups of earlier debits land asynchronously.
 */
export interface LedgerSnapshot {
  pool: number;
  entries: number;
  usageTotal: number;
  wallets: Record<string, number>;
  items: Record<string, unknown>[];
}

export async function ledgerSnapshot(agencyId: string, walletsOf: string[] = []): Promise<LedgerSnapshot> {
  await pipelineIdle();
  const [pool, ledger, days, wallets, accounts, lanes] = await Promise.all([
    poolItem(agencyId),
    ledgerItems(agencyId),
    usageDayRows(agencyId),
    Promise.all(walletsOf.map(walletItem)),
    Promise.all(walletsOf.map(accountItem)),
    Promise.all([poolKey(agencyId), ...walletsOf.map(walletKey)].map(lanesOf)).then((l) => l.flat()),
  ]);
  const inLanes = (head: string) => lanes.filter((l) => l.headPk === head).reduce((n, l) => n + l.credits, 0);
  const entries = ledger.filter((i) => i.kind === 'ledger_entry');
  const items = [pool, ...wallets, ...accounts, ...lanes, ...ledger.filter((i) => i.kind !== 'ledger_refusal'), ...days]
    .filter((i): i is Record<string, any> => i !== undefined)
    .sort((x, y) => (`${x.pk} ${x.sk}` < `${y.pk} ${y.sk}` ? -1 : 1));
  return {
    pool: (pool?.balance ?? 0) + inLanes(poolKey(agencyId).pk),
    entries: entries.length,
    usageTotal: days.reduce((n, d) => n + (d.total ?? 0), 0),
    wallets: Object.fromEntries(walletsOf.map((id, i) => [id, (wallets[i]?.balance ?? 0) + inLanes(walletKey(id).pk)])),
    items,
  };
}

/** Every path in a JSON value where one of `names` is used as an object key (arrays included). */
export function keyPaths(value: unknown, names: readonly string[], path = '$'): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => keyPaths(v, names, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => [
      ...(names.includes(k) ? [`${path}.${k}`] : []),
      ...keyPaths(v, names, `${path}.${k}`),
    ]);
  }
  return [];
}

/** Walks a cursor-paginated list to its end; returns every page (at most `maxPages`). */
export async function allPages<T = any>(
  path: string,
  token: string,
  query: Record<string, string> = {},
  opts: { maxPages?: number; clock?: string } = {},
): Promise<T[][]> {
  const maxPages = opts.maxPages ?? 100;
  const pages: T[][] = [];
  let cursor: string | null | undefined;
  do {
    const qs = new URLSearchParams({ ...query, ...(cursor ? { cursor } : {}) }).toString();
    const res = await api(`GET`, qs ? `${path}?${qs}` : path, { token, clock: opts.clock });
    expectStatus(res, 200, `GET ${path}?${qs}`);
    pages.push(res.body.items);
    cursor = res.body.nextCursor;
    if (pages.length > maxPages) throw new Error(`${path}: more than ${maxPages} pages`);
  } while (cursor);
  return pages;
}

/** A CSV of fully quoted cells (as the export writes it), parsed into rows of cells. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        cell += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',' || c === '\n') {
      row.push(cell);
      cell = '';
      if (c === '\n') {
        rows.push(row);
        row = [];
      }
    } else if (c !== '\r') {
      cell += c;
    }
  }
  if (cell || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

/** Sum of the entries that moved one balance: the pool, or one sub-account's wallet. */
export function sumFor(entries: StoredEntry[], balance: { pool: true } | { wallet: string }): number {
  return entries
    .filter((e) => ('pool' in balance ? e.balanceKind === 'pool' : e.balanceKind === 'wallet' && e.accountId === balance.wallet))
    .reduce((n, e) => n + e.credits, 0);
}

/**
 * A balance as it is: its item plus the lanes it set aside credits in while busy
 * (packages/domain/ledger/lanes.ts), read the way the API reads it.
 */
export const poolBalance = async (agencyId: string) => (await exactBalance(poolKey(agencyId))).balance;
export const walletBalance = async (subAccountId: string) => (await exactBalance(walletKey(subAccountId))).balance;

/** An agency and its sub-accounts, for one run of a property or model test. */
export interface LedgerWorld {
  agencyId: string;
  agencyToken: string;
  subs: string[];
}

/**
 * A fresh agency with `subs` sub-accounts per call. Signing up hashes passwords (slow on
 * purpose), so the next call's agency is made while this run goes; each serves one run.
 */
export function worldMaker(subs: number): (() => Promise<LedgerWorld>) & { prepare: () => void } {
  const fresh = async (): Promise<LedgerWorld> => {
    const agency = await signUpAgency('agency');
    const ids = await Promise.all(Array.from({ length: subs }, (_, i) => createSubAccountOnly(agency.token, `Client ${i}`)));
    return { agencyId: agency.agencyId, agencyToken: agency.token, subs: ids };
  };
  let next: Promise<LedgerWorld> | undefined;
  const prepare = () => {
    next ??= fresh();
    next.catch(() => undefined);
  };
  const take = () => {
    const w = next ?? fresh();
    next = undefined;
    prepare();
    return w;
  };
  /** `prepare()`: start making the first agency now (while the test's containers start). */
  return Object.assign(take, { prepare });
}
