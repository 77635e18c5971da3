/**
 * The product spec's worked example, end to end over HTTP against the local stack:
 * an agency is topped up with 1,000 credits; Client A sends a 50-message campaign, Client B
 * gets 30 AI replies; the agency is left with 920 and every view (history, filters, paging,
 * CSV, dashboards, the clients' own usage, the sub-account list) tells the same story.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type AgencyFixture, api, createSubAccount, type SubAccountFixture, signUpAgency, uniq } from '../support/api';
import { plusMs, steppingClock } from '../support/clock';
import { allPages, chargeUsage, expectStatus, parseCsv, topUp } from '../support/ledger';
import { pipelineIdle } from '../support/pipeline';

type Entry = {
  id: string;
  createdAt: string;
  type: string;
  credits: number;
  balanceAfter: number;
  subAccountId: string | null;
  contactId: string | null;
  campaignId: string | null;
  conversationId: string | null;
  actor: Record<string, unknown>;
};

let agency: AgencyFixture;
let clientA: SubAccountFixture;
let clientB: SubAccountFixture;
const campaignId = uniq('cmp_spring');
const contactOfA = uniq('contact-a');
/** B's 30 replies go to 5 contacts over 3 conversations. */
const contactOfB = (i: number) => `contact-b-${i % 5}`;
const conversationOfB = (i: number) => `conv-b-${i % 3}`;
/** Every entry of the agency, as GET /v1/credits/transactions lists it (newest first). */
let history: Entry[];
let topUpEntryId: string;

/**
 * Every request runs at an instant the test sets: the money moves one second apart from
 * 12:00 UTC on 15 June, every read an hour later, the same day and month whenever the suite
 * runs (a real midnight or month end inside the test's window would otherwise move "today"
 * and "this month" under it).
 */
const DAY = '2026-06-15';
const writeClock = steppingClock(`${DAY}T12:00:00.000Z`);
const READ = plusMs(`${DAY}T12:00:00.000Z`, 3600_000);

const transactions = (query: Record<string, string> = {}) =>
  api('GET', `/v1/credits/transactions?${new URLSearchParams(query)}`, { token: agency.token, clock: READ });

beforeAll(async () => {
  agency = await signUpAgency('agency');
  clientA = await createSubAccount(agency.token, 'Client A');
  clientB = await createSubAccount(agency.token, 'Client B');

  const top = expectStatus(await topUp(agency.agencyId, 1000, { reference: 'spec example', clock: writeClock() }), 201, 'top-up');
  expect(top.body.balance).toBe(1000);
  topUpEntryId = top.body.entry.id;

  const campaign = await chargeUsage(
    clientA.subAccountId,
    { type: 'campaign_message', quantity: 50, campaignId, contactId: contactOfA },
    { clock: writeClock() },
  );
  expect(campaign.status).toBe(201);
  expect(campaign.body.entry).toMatchObject({
    type: 'campaign_message',
    credits: -50,
    balanceAfter: 950,
    subAccountId: clientA.subAccountId,
    campaignId,
    contactId: contactOfA,
  });

  for (let i = 0; i < 30; i++) {
    const reply = await chargeUsage(
      clientB.subAccountId,
      { type: 'ai_response', quantity: 1, conversationId: conversationOfB(i), contactId: contactOfB(i) },
      { clock: writeClock() },
    );
    expect(reply.status, reply.text).toBe(201);
    expect(reply.body.entry).toMatchObject({
      type: 'ai_response',
      credits: -1,
      balanceAfter: 950 - i - 1,
      subAccountId: clientB.subAccountId,
      conversationId: conversationOfB(i),
    });
  }

  const list = expectStatus(await transactions(), 200, 'transactions');
  history = list.body.items;
  expect(list.body.nextCursor).toBeNull();
  // The dashboards and creditsUsedThisMonth are built from the table stream: wait until it has carried every debit.
  await pipelineIdle();
});

describe('the spec example: 1,000 credits, a 50-message campaign, 30 AI replies', () => {
  // Proves the pool is debited by exactly the usage: 1000 − 50 − 30.
  it('leaves the agency with 920 credits', async () => {
    const balance = await api('GET', '/v1/credits/balance', { token: agency.token, clock: READ });
    expect(balance.status).toBe(200);
    expect(balance.body).toMatchObject({ balance: 920, currency: 'credits' });
  });

  // Proves the history holds every movement once, newest first, each charge saying who and why.
  it('lists the top-up and all 31 charges, newest first, with their attribution', () => {
    expect(history).toHaveLength(32);
    const times = history.map((e) => e.createdAt);
    expect([...times].sort().reverse()).toEqual(times);
    expect(history[0]!.balanceAfter).toBe(920);

    const last = history[31]!;
    expect(last).toMatchObject({
      id: topUpEntryId,
      type: 'top_up',
      credits: 1000,
      balanceAfter: 1000,
      subAccountId: null,
      actor: { type: 'platform' },
    });

    const campaign = history.filter((e) => e.type === 'campaign_message');
    expect(campaign).toEqual([
      expect.objectContaining({
        credits: -50,
        balanceAfter: 950,
        subAccountId: clientA.subAccountId,
        campaignId,
        contactId: contactOfA,
        conversationId: null,
        actor: { type: 'platform' },
      }),
    ]);

    const replies = history.filter((e) => e.type === 'ai_response').reverse();
    expect(replies).toHaveLength(30);
    replies.forEach((e, i) => {
      expect(e).toMatchObject({
        credits: -1,
        balanceAfter: 949 - i,
        subAccountId: clientB.subAccountId,
        contactId: contactOfB(i),
        conversationId: conversationOfB(i),
        campaignId: null,
      });
    });
  });

  // Proves each filter selects exactly the matching entries (checked against the full history).
  it.each([
    [
      'subAccountId = Client A',
      () => ({ subAccountId: clientA.subAccountId }),
      (e: Entry) => e.subAccountId === clientA.subAccountId,
      1,
    ],
    [
      'subAccountId = Client B',
      () => ({ subAccountId: clientB.subAccountId }),
      (e: Entry) => e.subAccountId === clientB.subAccountId,
      30,
    ],
    ['campaignId', () => ({ campaignId }), (e: Entry) => e.campaignId === campaignId, 1],
    ['contactId of A', () => ({ contactId: contactOfA }), (e: Entry) => e.contactId === contactOfA, 1],
    ['contactId of B', () => ({ contactId: contactOfB(0) }), (e: Entry) => e.contactId === contactOfB(0), 6],
    ['type = ai_response', () => ({ type: 'ai_response' }), (e: Entry) => e.type === 'ai_response', 30],
    ['type = campaign_message', () => ({ type: 'campaign_message' }), (e: Entry) => e.type === 'campaign_message', 1],
    ['type = top_up', () => ({ type: 'top_up' }), (e: Entry) => e.type === 'top_up', 1],
    ['type = grant (none)', () => ({ type: 'grant' }), () => false, 0],
    [
      'contactId and subAccountId together',
      () => ({ contactId: contactOfB(1), subAccountId: clientB.subAccountId }),
      (e: Entry) => e.contactId === contactOfB(1),
      6,
    ],
    [
      'a contact of B under Client A (none)',
      () => ({ contactId: contactOfB(1), subAccountId: clientA.subAccountId }),
      () => false,
      0,
    ],
  ] as const)('filters by %s', async (_label, query, match, count) => {
    const res = await transactions(query());
    expect(res.status).toBe(200);
    const expected = history.filter(match).map((e) => e.id);
    expect(expected).toHaveLength(count);
    expect(res.body.items.map((e: Entry) => e.id)).toEqual(expected);
  });

  // Proves from/to bound the history by time, inclusively, as timestamps or whole UTC days.
  it('filters by from/to', async () => {
    const oldestFirst = [...history].reverse();
    const from = oldestFirst[10]!.createdAt;
    const to = oldestFirst[20]!.createdAt;
    const window = await transactions({ from, to });
    expect(window.status).toBe(200);
    expect(window.body.items.map((e: Entry) => e.id)).toEqual(
      history.filter((e) => e.createdAt >= from && e.createdAt <= to).map((e) => e.id),
    );
    expect(window.body.items.length).toBeGreaterThanOrEqual(11);

    const today = history[0]!.createdAt.slice(0, 10);
    expect(today, 'every entry at the instant the test set').toBe(DAY);
    expect(history[31]!.createdAt.slice(0, 10)).toBe(DAY);
    const day = 86400_000;
    const tomorrow = new Date(Date.parse(today) + day).toISOString().slice(0, 10);
    const yesterday = new Date(Date.parse(today) - day).toISOString().slice(0, 10);
    expect((await transactions({ from: history[31]!.createdAt.slice(0, 10), to: today })).body.items).toHaveLength(32);
    expect((await transactions({ from: tomorrow, to: tomorrow })).body.items).toEqual([]);
    expect((await transactions({ to: yesterday })).body.items).toEqual([]);
    expect((await transactions({ from: oldestFirst[1]!.createdAt, type: 'campaign_message' })).body.items).toHaveLength(1);

    const backwards = await transactions({ from: tomorrow, to: today });
    expect(backwards.status).toBe(400);
    expect(backwards.body.code).toBe('invalid_request');
  });

  // Proves cursor paging visits every entry exactly once, in the same newest-first order.
  it('pages through everything with limit=7, each entry exactly once', async () => {
    const pages = await allPages<Entry>('/v1/credits/transactions', agency.token, { limit: '7' }, { clock: READ });
    for (const page of pages) expect(page.length).toBeLessThanOrEqual(7);
    expect(pages.filter((p) => p.length > 0).length).toBe(5);
    const ids = pages.flat().map((e) => e.id);
    expect(new Set(ids).size).toBe(32);
    expect(ids).toEqual(history.map((e) => e.id));

    // Paging composes with a filter: B's 30 replies, 7 at a time.
    const filtered = (
      await allPages<Entry>(
        '/v1/credits/transactions',
        agency.token,
        { limit: '7', subAccountId: clientB.subAccountId },
        { clock: READ },
      )
    ).flat();
    expect(filtered.map((e) => e.id)).toEqual(history.filter((e) => e.subAccountId === clientB.subAccountId).map((e) => e.id));
  });

  // Proves the CSV export is the same history, one row per entry under a header row.
  it('exports CSV with a header row and one row per entry', async () => {
    const res = await api('GET', '/v1/credits/transactions', {
      token: agency.token,
      headers: { accept: 'text/csv' },
      clock: READ,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const [header, ...rows] = parseCsv(res.text);
    expect(header).toEqual(
      expect.arrayContaining([
        'id',
        'createdAt',
        'type',
        'credits',
        'balanceAfter',
        'subAccountId',
        'contactId',
        'campaignId',
        'conversationId',
        'actor',
      ]),
    );
    expect(rows).toHaveLength(32);
    const col = (name: string) => header!.indexOf(name);
    expect(rows.map((r) => r[col('id')])).toEqual(history.map((e) => e.id));
    rows.forEach((r, i) => {
      const e = history[i]!;
      expect(r).toHaveLength(header!.length);
      expect(r[col('type')]).toBe(e.type);
      expect(Number(r[col('credits')])).toBe(e.credits);
      expect(Number(r[col('balanceAfter')])).toBe(e.balanceAfter);
      expect(r[col('subAccountId')]).toBe(e.subAccountId ?? '');
      expect(r[col('campaignId')]).toBe(e.campaignId ?? '');
      expect(r[col('contactId')]).toBe(e.contactId ?? '');
    });
  });

  // Proves the export is gated by the usage_export feature (not in the starter plan), JSON is not.
  it('refuses CSV to a starter agency with 403 feature_not_enabled', async () => {
    const starter = await signUpAgency('starter');
    const csv = await api('GET', '/v1/credits/transactions', { token: starter.token, headers: { accept: 'text/csv' } });
    expect(csv.status).toBe(403);
    expect(csv.body.code).toBe('feature_not_enabled');
    expect((await api('GET', '/v1/credits/transactions', { token: starter.token })).status).toBe(200);
  });

  // Proves the agency dashboard adds up per sub-account (named) and per day from the usage rollups.
  it('shows agency usage: 50 and 30 per named sub-account, 80 today', async () => {
    const res = await api('GET', '/v1/credits/usage', { token: agency.token, clock: READ });
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(80);
    expect(res.body.bySubAccount).toEqual([
      { subAccountId: clientA.subAccountId, name: 'Client A', credits: 50 },
      { subAccountId: clientB.subAccountId, name: 'Client B', credits: 30 },
    ]);
    const series = res.body.series as { date: string; credits: number }[];
    expect(series.find((d) => d.date === DAY)).toEqual({ date: DAY, credits: 80 });
    expect(series.reduce((n, d) => n + d.credits, 0)).toBe(80);
  });

  // Proves each client sees its own usage (and only its own), by type and by day.
  it.each([
    ['Client A', () => clientA, 50, { campaign_message: 50, ai_response: 0 }],
    ['Client B', () => clientB, 30, { campaign_message: 0, ai_response: 30 }],
  ] as const)('shows %s its own usage with its own token', async (_label, client, total, byType) => {
    const { subAccountId, token } = client();
    const res = await api('GET', `/v1/accounts/${subAccountId}/usage`, { token, clock: READ });
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(total);
    expect(res.body.byType).toEqual(byType);
    expect(res.body.series.find((d: { date: string }) => d.date === DAY)).toEqual({ date: DAY, credits: total });
    // The agency sees the same numbers for that client.
    const asAgency = await api('GET', `/v1/accounts/${subAccountId}/usage`, { token: agency.token, clock: READ });
    expect(asAgency.body).toEqual(res.body);
  });

  // Proves the month's usage on the sub-account list counts each client's usage.
  it('reports creditsUsedThisMonth 50 and 30 on the sub-account list', async () => {
    const res = await api('GET', '/v1/sub-accounts', { token: agency.token, clock: READ });
    expect(res.status).toBe(200);
    const used = Object.fromEntries(
      res.body.items.map((s: { id: string; creditsUsedThisMonth: number }) => [s.id, s.creditsUsedThisMonth]),
    );
    expect(used).toEqual({ [clientA.subAccountId]: 50, [clientB.subAccountId]: 30 });
  });
});
