/**
 * History filters where the matches are rare among many (issue 24): each filter (sub-account,
 * campaign, contact, type) returns exactly the matching entries, newest first, in full pages
 * until the last; the CSV export likewise. A sub-account is a list of its own (gsi2), and so is
 * each type but usage (gsi3: top-ups, grants…), so their pages read in proportion to what they
 * return, however many debits their agency has; the other filters are applied as DynamoDB reads
 * inside the narrowest list (see history.ts for why), within a read budget that these pages
 * stay inside. What DynamoDB evaluated is observed on the handlers' own client.
 */

import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { db, dynamo, table } from '#db/client';
import { ledgerPartitions } from '#db/items/ledger-entry';
import { exportTransactions, listTransactions } from '#domain/ledger/history';
import { type AgencyFixture, api, createSubAccount, signUpAgency } from '../support/api';
import { stack } from '../support/stack';

const EVENTS = 1_500;
const RARE = 30; // one in fifty
const LIMIT = 8;

const GRANTS = 5; // to each of two reselling sub-accounts: a grant entry on the pool and one on the wallet each

let agency: AgencyFixture;
let other: AgencyFixture;
let subs: string[];
/** Reselling sub-accounts that only receive grants. */
let resellers: string[];
/** Every entry of the agency, newest first, as the unfiltered history lists them. */
let all: Array<Record<string, any>>;

beforeAll(async () => {
  agency = await signUpAgency('agency');
  other = await signUpAgency('agency');
  subs = [];
  for (let i = 0; i < 5; i++) subs.push((await createSubAccount(agency.token)).subAccountId);
  resellers = [];
  for (let i = 0; i < 2; i++) {
    const id = (await createSubAccount(agency.token)).subAccountId;
    const mode = await api('PATCH', `/v1/sub-accounts/${id}`, { token: agency.token, body: { creditMode: 'reselling' } });
    expect(mode.status, mode.text).toBe(200);
    resellers.push(id);
  }
  const topUp = (a: AgencyFixture, n: number, clock: string) =>
    api('POST', `/v1/admin/agencies/${a.agencyId}/credits`, {
      token: stack.platformApiKey,
      body: { credits: 1_000_000, reference: `filters ${n}` },
      headers: { 'idempotency-key': `filters-${a.agencyId}-${n}` },
      clock,
    });
  expect((await topUp(agency, 0, '2026-03-01T00:00:00.000Z')).status).toBe(201);
  // The other agency's own top-up: a list of one type is the agency's only.
  expect((await topUp(other, 0, '2026-03-01T00:00:00.000Z')).status).toBe(201);
  // Top-ups (30 with the first) and grants, rare among the debits: a few early each day, before its usage.
  for (let t = 1; t < RARE; t++) {
    const day = 2 + (t % (EVENTS / 250));
    const res = await topUp(agency, t, `2026-03-0${day}T0${1 + Math.floor(t / 6)}:00:00.000Z`);
    expect(res.status, res.text).toBe(201);
  }
  for (const [r, id] of resellers.entries()) {
    for (let g = 0; g < GRANTS; g++) {
      const res = await api('POST', `/v1/sub-accounts/${id}/credits/grants`, {
        token: agency.token,
        body: { credits: 10 + g, reference: `g${g}` },
        headers: { 'idempotency-key': `filters-grant-${g}` },
        clock: `2026-03-0${2 + g}T0${8 + r}:00:00.000Z`,
      });
      expect(res.status, res.text).toBe(201);
    }
  }
  // The rare values fall on every 50th event, each on its own one: a rare sub-account (the
  // last), campaign, contact and type (campaign_message) among 1,500 usage events.
  const rare = (i: number, k: number) => i % 50 === k;
  for (let b = 0; b < EVENTS / 250; b++) {
    const events = Array.from({ length: 250 }, (_, j) => {
      const i = b * 250 + j;
      return {
        accountId: rare(i, 1) ? subs[4] : subs[i % 4],
        type: rare(i, 2) ? 'campaign_message' : 'ai_response',
        quantity: 1,
        campaignId: rare(i, 3) ? 'cmp_rare' : `cmp_${i % 7}`,
        contactId: rare(i, 4) ? 'c_rare' : `c_${i % 11}`,
        idempotencyKey: `f-${i}`,
      };
    });
    const res = await api('POST', '/v1/usage/batch', {
      token: stack.platformApiKey,
      body: { events },
      clock: `2026-03-0${2 + b}T12:00:00.000Z`,
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.results.every((r: { status: number }) => r.status === 201)).toBe(true);
  }
  all = [];
  let cursor: string | undefined;
  do {
    const page = await listTransactions(agency.agencyId, { limit: 200, cursor });
    all.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  expect(all.length).toBe(EVENTS + RARE + 4 * GRANTS);
}, 180_000);

/** Items DynamoDB evaluated (ScannedCount) in the queries `fn` made. */
async function evaluating<T>(fn: () => Promise<T>) {
  let scanned = 0;
  const name = 'count-evaluated';
  dynamo.middlewareStack.add(
    (next, context) => async (args) => {
      const out: any = await next(args);
      if (context.commandName === 'QueryCommand') scanned += out.output.ScannedCount ?? 0;
      return out;
    },
    { step: 'initialize', name },
  );
  try {
    const result = await fn();
    return { result, scanned };
  } finally {
    dynamo.middlewareStack.remove(name);
  }
}

type Entry = Record<string, any>;
/** Each filter, how many entries it matches, and what a page of it may evaluate at most. */
const filters = () =>
  [
    // Its own list (gsi2): its rows and a first read of each of the 32 shards, not the agency's entries.
    ['subAccountId', { subAccountId: subs[4] }, (e: Entry) => e.subAccountId === subs[4], RARE, 32 * 2 + 2 * LIMIT],
    ['campaignId', { campaignId: 'cmp_rare' }, (e: Entry) => e.campaignId === 'cmp_rare', RARE, undefined],
    ['contactId', { contactId: 'c_rare' }, (e: Entry) => e.contactId === 'c_rare', RARE, undefined],
    // A usage type: no list of its own (a debit's index copy), the agency's ledger filtered.
    [
      'type=campaign_message',
      { type: 'campaign_message' as const },
      (e: Entry) => e.type === 'campaign_message',
      RARE,
      undefined,
    ],
    // A type listed by type (gsi3): one list; a page reads its rows, the row its cursor resumes
    // below (key bounds are inclusive) and one to know there are more.
    ['type=top_up', { type: 'top_up' as const }, (e: Entry) => e.type === 'top_up', RARE, LIMIT + 2],
    // A listed type, the sub-account filtered inside it: one reseller's grants (both legs of each), not the other's.
    [
      'type=grant&subAccountId',
      { type: 'grant' as const, subAccountId: resellers[0] },
      (e: Entry) => e.type === 'grant' && e.subAccountId === resellers[0],
      2 * GRANTS,
      4 * GRANTS + 2,
    ],
    // A contact inside a sub-account's own list: that sub-account's entries filtered.
    [
      'subAccountId&contactId',
      { subAccountId: subs[1], contactId: 'c_5' },
      (e: Entry) => e.subAccountId === subs[1] && e.contactId === 'c_5',
      undefined,
      undefined,
    ],
  ] as const;

describe('history filters, the matches rare among many', () => {
  it.each([0, 1, 2, 3, 4, 5, 6])('filter %#: exactly the matching entries, in order, in full pages', async (n) => {
    const [name, filter, matches, count, perPage] = filters()[n]!;
    const expected = all.filter(matches).map((e) => e.id);
    if (count !== undefined) expect(expected.length, name).toBe(count);
    expect(expected.length, name).toBeGreaterThan(LIMIT);
    const pages: string[][] = [];
    const scanned: number[] = [];
    let cursor: string | undefined;
    do {
      const { result, scanned: s } = await evaluating(() =>
        listTransactions(agency.agencyId, { limit: LIMIT, cursor, ...filter }),
      );
      pages.push(result.items.map((e) => e.id));
      scanned.push(s);
      cursor = result.nextCursor ?? undefined;
    } while (cursor && pages.length < 20);
    expect(pages.flat(), name).toEqual(expected);
    // Full pages, the last holding the rest; never an empty page (the end is said with the last rows).
    const sizes = pages.map((p) => p.length);
    const full = Math.floor(expected.length / LIMIT);
    const rest = expected.length % LIMIT;
    expect(sizes, name).toEqual([...Array(full).fill(LIMIT), ...(rest ? [rest] : [])]);
    if (perPage !== undefined) {
      // Its own list: what a page evaluates follows its rows, not the agency's entries.
      for (const s of scanned) expect(s, `${name}: evaluated per page ${scanned}`).toBeLessThanOrEqual(perPage);
    }
  });

  // 1,500 debits, 30 top-ups and 20 grant entries = 10 pages of 155; each rare kind = 3 pages of 10.
  it.each([
    ['unfiltered, the whole ledger', () => ({}), 155, 10],
    ['a sub-account, its own list', () => ({ subAccountId: subs[4] }), RARE / 3, 3],
    ['a filter applied while reading', () => ({ campaignId: 'cmp_rare' }), RARE / 3, 3],
    ['a type listed by type', () => ({ type: 'top_up' as const }), RARE / 3, 3],
  ])(
    '%s, ending on a page’s last row: that page says it is the last (no cursor to an empty page)',
    async (_, query, limit, pages) => {
      const sizes: number[] = [];
      let cursor: string | undefined;
      do {
        const page = await listTransactions(agency.agencyId, { limit, cursor, ...query() });
        sizes.push(page.items.length);
        cursor = page.nextCursor ?? undefined;
      } while (cursor && sizes.length <= pages);
      expect(sizes).toEqual(Array(pages).fill(limit));
    },
  );

  it('the CSV export of a sub-account: its entries only, every one once, reading only them', async () => {
    const { result, scanned } = await evaluating(() => exportTransactions(agency.agencyId, { limit: 50, subAccountId: subs[4] }));
    expect(result.rows.map((r) => r.id)).toEqual(all.filter((e) => e.subAccountId === subs[4]).map((e) => e.id));
    expect(result.nextCursor).toBeNull();
    expect(scanned).toBeLessThanOrEqual(RARE + 32);
  });

  it('the CSV export of a type listed by type: its entries only, every one once, reading only them', async () => {
    const { result, scanned } = await evaluating(() => exportTransactions(agency.agencyId, { limit: 50, type: 'top_up' }));
    expect(result.rows.map((r) => r.id)).toEqual(all.filter((e) => e.type === 'top_up').map((e) => e.id));
    expect(result.nextCursor).toBeNull();
    expect(scanned).toBeLessThanOrEqual(RARE + 1);
  });

  it('a debit has no copy on the type lists (its write units unchanged); every other entry has one', async () => {
    const stored: Entry[] = [];
    for (const partition of ledgerPartitions(agency.agencyId)) {
      let start: Record<string, unknown> | undefined;
      do {
        const out = await db.send(
          new QueryCommand({
            TableName: table(),
            IndexName: 'gsi1',
            KeyConditionExpression: 'gsi1pk = :pk',
            ExpressionAttributeValues: { ':pk': partition },
            ExclusiveStartKey: start,
          }),
        );
        stored.push(...(out.Items ?? []));
        start = out.LastEvaluatedKey;
      } while (start);
    }
    expect(stored.length).toBe(all.length);
    const usage = stored.filter((e) => e.type === 'ai_response' || e.type === 'campaign_message');
    expect(usage.length).toBe(EVENTS);
    for (const e of usage) expect(e.gsi3pk, e.id).toBeUndefined();
    for (const e of stored.filter((x) => !usage.includes(x))) {
      expect(e.gsi3pk, e.id).toBe(`LEDGER#${agency.agencyId}#TYPE#${e.type}`);
    }
  });

  it('through the route, JSON and CSV: the same entries, and another agency sees none of them', async () => {
    const get = (a: AgencyFixture, query: string, headers: Record<string, string> = {}) =>
      api('GET', `/v1/credits/transactions?${query}`, { token: a.token, headers });
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await get(agency, `type=top_up&limit=${LIMIT}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status, page.text).toBe(200);
      ids.push(...page.body.items.map((e: Entry) => e.id));
      cursor = page.body.nextCursor ?? undefined;
    } while (cursor && ids.length <= RARE);
    expect(ids).toEqual(all.filter((e) => e.type === 'top_up').map((e) => e.id));
    const csv = await get(agency, 'type=grant', { accept: 'text/csv' });
    expect(csv.status, csv.text).toBe(200);
    const csvIds = csv.text
      .split('\r\n')
      .slice(1, -1)
      .map((line) => JSON.parse(line.split(',')[0]!));
    expect(csvIds).toEqual(all.filter((e) => e.type === 'grant').map((e) => e.id));
    expect(csvIds.length).toBe(4 * GRANTS);

    // The other agency: its own top-up only; this agency's campaign, contact and sub-account match nothing there.
    const theirs = await get(other, 'type=top_up');
    expect(theirs.body.items.map((e: Entry) => e.type)).toEqual(['top_up']);
    expect(ids).not.toContain(theirs.body.items[0].id);
    for (const query of [
      'campaignId=cmp_rare',
      'contactId=c_rare',
      'type=grant',
      'type=campaign_message',
      `subAccountId=${subs[4]}`,
    ]) {
      const res = await get(other, query);
      expect(res.status, query).toBe(200);
      expect(res.body, query).toEqual({ items: [], nextCursor: null });
    }
  });
});
