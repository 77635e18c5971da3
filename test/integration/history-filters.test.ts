/**
 * History filters where the matches are rare among many (issue 24): each filter (sub-account,
 * campaign, contact, type) returns exactly the matching entries, newest first, in full pages
 * until the last; the CSV export likewise. A sub-account is a list of its own (gsi2), so its
 * pages read in proportion to what they return, however many entries its agency has; the other
 * filters are applied as DynamoDB reads (see history.ts for why), within a read budget that
 * these pages stay inside. What DynamoDB evaluated is observed on the handlers' own client.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { dynamo } from '../../packages/db/client';
import { exportTransactions, listTransactions } from '../../packages/domain/ledger/history';
import { type AgencyFixture, api, createSubAccount, signUpAgency } from '../support/api';
import { stack } from '../support/stack';

const EVENTS = 1_500;
const RARE = 30; // one in fifty
const LIMIT = 8;

let agency: AgencyFixture;
let subs: string[];
/** Every entry of the agency, newest first, as the unfiltered history lists them. */
let all: Array<Record<string, any>>;

beforeAll(async () => {
  agency = await signUpAgency('agency');
  subs = [];
  for (let i = 0; i < 5; i++) subs.push((await createSubAccount(agency.token)).subAccountId);
  const topUp = await api('POST', `/v1/admin/agencies/${agency.agencyId}/credits`, {
    token: stack.platformApiKey,
    body: { credits: 1_000_000, reference: 'filters' },
    headers: { 'idempotency-key': `filters-${agency.agencyId}` },
    clock: '2026-03-01T00:00:00.000Z',
  });
  expect(topUp.status).toBe(201);
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
  expect(all.length).toBe(EVENTS + 1);
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

const filters = () =>
  [
    ['subAccountId', { subAccountId: subs[4] }, (e: Record<string, any>) => e.subAccountId === subs[4]],
    ['campaignId', { campaignId: 'cmp_rare' }, (e: Record<string, any>) => e.campaignId === 'cmp_rare'],
    ['contactId', { contactId: 'c_rare' }, (e: Record<string, any>) => e.contactId === 'c_rare'],
    ['type', { type: 'campaign_message' as const }, (e: Record<string, any>) => e.type === 'campaign_message'],
  ] as const;

describe('history filters, the matches rare among many', () => {
  it.each([0, 1, 2, 3])('filter %#: exactly the matching entries, in order, in full pages', async (n) => {
    const [name, filter, matches] = filters()[n]!;
    const expected = all.filter(matches).map((e) => e.id);
    expect(expected.length, name).toBe(RARE);
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
    const full = Math.floor(RARE / LIMIT);
    expect(sizes, name).toEqual([...Array(full).fill(LIMIT), ...(RARE % LIMIT ? [RARE % LIMIT] : [])]);
    if (name === 'subAccountId') {
      // Its own list: a page evaluates its rows and a first read of each of the 32 shards, not the agency's 1,501 entries.
      for (const s of scanned) expect(s, `evaluated per page ${scanned}`).toBeLessThanOrEqual(32 * 2 + 2 * LIMIT);
    }
  });

  // 1,501 entries = 19 pages of 79; each rare kind = 3 pages of 10.
  it.each([
    ['unfiltered, the whole ledger', () => ({}), 79, 19],
    ['a sub-account, its own list', () => ({ subAccountId: subs[4] }), RARE / 3, 3],
    ['a filter applied while reading', () => ({ campaignId: 'cmp_rare' }), RARE / 3, 3],
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
});
