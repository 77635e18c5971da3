/**
 * The CSV export stays under Lambda's 6 MB response limit and pages (issue 8). A large ledger
 * (6,000 entries with long, quote-heavy references: about 9 MB of CSV once Lambda escapes it)
 * used to come back in one download, which Lambda refuses (API Gateway answers 500; the local
 * gateway enforces the same limit). Now each download stops at the size budget and hands back
 * `x-next-cursor`; the downloads together hold every entry exactly once, newest first. A
 * filter that matches nothing stops at the read budget and hands back a cursor too.
 *
 * The ledger lives in a table of its own (7 MB the shared one need not hold), served by a
 * gateway in this process: the same handler modules, pointed at that table before they load.
 * The table has no stream: nothing here reads one, and DynamoDB Local is very slow to write a
 * stream-enabled table created after the suite's other tables have filled their streams (the
 * 6,000 entries took 80 s to seed that way, in CI).
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '#core/ids';
import { type AccountItem, putAccount } from '#db/items/account';
import { type LedgerEntryItem, putEntry } from '#db/items/ledger-entry';
import { type UserItem, userKey } from '#db/items/user';
import { createTableInput, itemKinds, stored } from '#db/schema';
import { issueToken } from '#domain/auth/tokens';
import { planFeatures } from '#domain/features';
import { exportBudget, exportTransactions } from '#domain/ledger/history';
import { LAMBDA_RESPONSE_LIMIT_BYTES, startGateway } from '#local/gateway';
import { type ApiResponse, api } from '../support/api';
import { mapLimit } from '../support/routes';
import { stack } from '../support/stack';

const ENTRIES = 6_000;
const tableName = `csv-budget-${randomBytes(4).toString('hex')}`;
const client = new DynamoDBClient({
  endpoint: stack.dynamoEndpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
const doc = DynamoDBDocumentClient.from(client);

const agencyId = newId('agency');
const userId = newId('user');
let token: string;
let gateway: { url: string; server: Server };
/** Entry ids, newest first (the export's order). */
let ids: string[];

/** 200 characters with 40 double quotes: CSV doubles them, and Lambda's JSON envelope escapes each. */
const quoted = (label: string) => `${label} "quoted" `.repeat(20).slice(0, 200);

beforeAll(async () => {
  await client.send(new CreateTableCommand({ ...createTableInput(tableName), StreamSpecification: { StreamEnabled: false } }));
  // Before anything reads it: the handlers and the item builders take the table name once.
  process.env.TABLE_NAME = tableName;

  const at = new Date().toISOString();
  const agency: AccountItem = {
    kind: itemKinds.account,
    id: agencyId,
    type: 'agency',
    agencyId,
    name: 'Big Ledger Agency',
    plan: 'pro',
    features: [...planFeatures.pro],
    status: 'active',
    createdAt: at,
    updatedAt: at,
  };
  // Its user: authentication reads it for the session version the token was issued under.
  const user: UserItem = {
    kind: itemKinds.user,
    id: userId,
    email: `${userId}@example.test`,
    passwordHash: 'unused',
    accountId: agencyId,
    accountType: 'agency',
    agencyId,
    createdAt: at,
    sessionVersion: 0,
  };
  const start = Date.now() - ENTRIES * 1000;
  const entries: LedgerEntryItem[] = Array.from({ length: ENTRIES }, (_, i) => ({
    kind: itemKinds.ledgerEntry,
    id: newId('transaction', start + i * 1000),
    agencyId,
    createdAt: new Date(start + i * 1000).toISOString(),
    type: 'ai_response',
    credits: -1,
    balanceAfter: ENTRIES - i,
    balanceKind: 'pool',
    accountId: agencyId,
    subAccountId: null,
    contactId: quoted('contact'),
    campaignId: quoted('campaign'),
    conversationId: quoted('conversation'),
    reference: quoted('reference'),
    actor: { type: 'platform' },
    idempotencyKey: `seed-${i}`,
    requestHash: 'seed',
  }));
  ids = entries.map((e) => e.id).reverse();
  const items = [
    putAccount(agency).Put!.Item!,
    stored(user, userKey(userId)),
    ...entries.map(
      (e) => putEntry({ agencyId, operation: 'usage', accountId: agencyId, idempotencyKey: e.idempotencyKey }, e).Put!.Item!,
    ),
  ];
  const batches = Array.from({ length: Math.ceil(items.length / 25) }, (_, i) => items.slice(i * 25, i * 25 + 25));
  await mapLimit(batches, 4, async (batch) => {
    let pending = batch.map((Item) => ({ PutRequest: { Item } }));
    while (pending.length) {
      const out = await doc.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
      pending = (out.UnprocessedItems?.[tableName] ?? []) as typeof pending;
    }
  });

  ({ token } = await issueToken({ userId, accountId: agencyId, accountType: 'agency', agencyId, sessionVersion: 0 }, 3600));
  gateway = await startGateway(0);
}, 180_000);

afterAll(async () => {
  await new Promise((resolve) => gateway?.server.close(resolve));
  await client.send(new DeleteTableCommand({ TableName: tableName }));
});

/** What Lambda would send for this CSV body: the body inside a JSON envelope (quotes escaped). */
const lambdaBytes = (text: string) => Buffer.byteLength(JSON.stringify(text));

describe('a CSV export larger than one Lambda response', () => {
  it('pages by x-next-cursor, each download well under 6 MB, every entry exactly once, newest first', async () => {
    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const res: ApiResponse = await api('GET', `/v1/credits/transactions${cursor ? `?cursor=${cursor}` : ''}`, {
        baseUrl: gateway.url,
        token,
        headers: { accept: 'text/csv' },
      });
      expect(res.status, res.text.slice(0, 300)).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
      const lines = res.text.split('\r\n').filter(Boolean);
      expect(lines[0]).toMatch(/^id,createdAt,/);
      seen.push(...lines.slice(1).map((line) => line.slice(1, line.indexOf('"', 1))));
      sizes.push(lambdaBytes(res.text));
      cursor = res.headers.get('x-next-cursor');
    } while (cursor && sizes.length < 20);

    expect(seen).toEqual(ids);
    expect(sizes.length).toBeGreaterThan(1);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(exportBudget.bytes);
    // The data itself was well over one Lambda response.
    expect(sizes.reduce((a, b) => a + b, 0)).toBeGreaterThan(LAMBDA_RESPONSE_LIMIT_BYTES);
  });

  it('stops a filter that matches nothing at the read budget and hands back a cursor', async () => {
    const q = { limit: 50, campaignId: 'no such campaign' };
    const budget = { entries: 600, bytes: 1024 * 1024 };
    const first = await exportTransactions(agencyId, q, budget);
    expect(first.rows).toEqual([]);
    expect(first.nextCursor).not.toBeNull();
    // Carrying on, download by download, the whole ledger is read and the export ends.
    let cursor = first.nextCursor;
    let downloads = 1;
    while (cursor && downloads < 100) {
      const next = await exportTransactions(agencyId, { ...q, cursor }, budget);
      expect(next.rows).toEqual([]);
      cursor = next.nextCursor;
      downloads++;
    }
    expect(cursor).toBeNull();
    // 600 entries read a download at most: the 6,000 take 10 at least. A download resumes below
    // the point every shard was read down to, so a shard read deeper than the others is read
    // again in part: the downloads cost a little more than the ledger, never twice as much.
    console.log(`csv budget: ${downloads} downloads for ${ENTRIES} entries at ${budget.entries} a download`);
    expect(downloads).toBeGreaterThanOrEqual(Math.ceil(ENTRIES / budget.entries));
    expect(downloads).toBeLessThan((2 * ENTRIES) / budget.entries);
  });

  it('the JSON history of the same ledger pages as ever (at most 200 entries an answer)', async () => {
    const res = await api('GET', '/v1/credits/transactions?limit=200', { baseUrl: gateway.url, token });
    expect(res.status).toBe(200);
    expect(res.body.items.map((e: { id: string }) => e.id)).toEqual(ids.slice(0, 200));
    expect(res.body.nextCursor).not.toBeNull();
  });
});
