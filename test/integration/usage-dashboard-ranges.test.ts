/**
 * The agency dashboard over a month, a quarter, a year and a range with odd ends (issue 24):
 * one response each, equal to the sum of the ledger's entries in that range, per sub-account,
 * for the agency's own use and in total. Usage is spread over 14 months under the test clock,
 * on the first, the 15th and the last day of each month, so every range has whole months and,
 * for the year and the odd range, days at either end.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type AgencyFixture, api, createSubAccount, signUpAgency } from '../support/api';
import { pipelineIdle } from '../support/pipeline';
import { stack } from '../support/stack';

const DAY = 86_400_000;
const date = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const today = Date.parse(`${date(Date.now())}T00:00:00Z`);
const yesterday = date(today - DAY);

let agency: AgencyFixture;
let accounts: string[];
/** What was charged: account, date, credits. */
const charged: Array<{ accountId: string; date: string; credits: number }> = [];

beforeAll(async () => {
  agency = await signUpAgency('agency');
  accounts = [agency.agencyId];
  for (let i = 0; i < 3; i++) accounts.push((await createSubAccount(agency.token)).subAccountId);
  const topUp = await api('POST', `/v1/admin/agencies/${agency.agencyId}/credits`, {
    token: stack.platformApiKey,
    body: { credits: 1_000_000, reference: 'dashboard ranges' },
    headers: { 'idempotency-key': `ranges-${agency.agencyId}`, 'x-test-clock': new Date(today - 500 * DAY).toISOString() },
  });
  expect(topUp.status).toBe(201);
  const t = new Date(today);
  const dates: string[] = [];
  for (let m = 13; m >= 0; m--) {
    const first = Date.UTC(t.getUTCFullYear(), t.getUTCMonth() - m, 1);
    const last = Date.UTC(t.getUTCFullYear(), t.getUTCMonth() - m + 1, 1) - DAY;
    for (const d of [first, first + 14 * DAY, last]) if (d < today) dates.push(date(d));
  }
  for (const [n, d] of dates.entries()) {
    const events = accounts.map((accountId, i) => ({
      accountId,
      type: i % 2 ? 'ai_response' : 'campaign_message',
      quantity: i + 1 + (n % 3),
      idempotencyKey: `r-${n}-${i}`,
    }));
    const res = await api('POST', '/v1/usage/batch', {
      token: stack.platformApiKey,
      body: { events },
      headers: { 'x-test-clock': `${d}T${n % 2 ? '00:00:00.000' : '23:59:59.999'}Z` },
    });
    expect(res.status, res.text).toBe(200);
    for (const e of events) charged.push({ accountId: e.accountId, date: d, credits: e.quantity });
  }
  await pipelineIdle(); // the rollups are built from the stream
}, 180_000);

/** The entries of from..to, summed per account, from the ledger itself (every page of its history). */
async function ledgerSums(from: string, to: string) {
  const sums = new Map<string, number>();
  let cursor: string | undefined;
  do {
    const res = await api('GET', `/v1/credits/transactions?from=${from}&to=${to}&limit=200${cursor ? `&cursor=${cursor}` : ''}`, {
      token: agency.token,
    });
    expect(res.status).toBe(200);
    for (const e of res.body.items) {
      if (e.type !== 'ai_response' && e.type !== 'campaign_message') continue;
      const id = e.subAccountId ?? agency.agencyId;
      sums.set(id, (sums.get(id) ?? 0) - e.credits);
    }
    cursor = res.body.nextCursor ?? undefined;
  } while (cursor);
  return sums;
}

const t = new Date(today);
const monthStart = (back: number) => date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth() - back, 1));
const monthEnd = (back: number) => date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth() - back + 1, 1) - DAY);

describe('the agency dashboard over any range up to 366 days', () => {
  it.each([
    ['a month', monthStart(1), monthEnd(1)],
    ['a quarter', monthStart(3), monthEnd(1)],
    ['a year (366 days, ends mid-month)', date(today - 366 * DAY), yesterday],
    ['odd ends (the 15th to the 1st)', date(Date.parse(`${monthStart(7)}T00:00:00Z`) + 14 * DAY), monthStart(2)],
  ])('%s: one response equal to the entries of the range', async (_, from, to) => {
    const res = await api('GET', `/v1/credits/usage?from=${from}&to=${to}`, { token: agency.token });
    expect(res.status, res.text).toBe(200);
    expect([res.body.from, res.body.to, res.body.nextCursor]).toEqual([from, to, null]);

    const sent = new Map<string, number>();
    for (const c of charged) if (c.date >= from && c.date <= to) sent.set(c.accountId, (sent.get(c.accountId) ?? 0) + c.credits);
    expect(sent.size).toBe(accounts.length); // every range holds usage of every account
    // What was sent is what the ledger holds, and what the dashboard says.
    expect(await ledgerSums(from, to)).toEqual(sent);
    const total = [...sent.values()].reduce((a, b) => a + b, 0);
    expect(res.body.total).toBe(total);
    expect(res.body.series.reduce((n: number, s: { credits: number }) => n + s.credits, 0)).toBe(total);
    expect(res.body.agencyOwn).toBe(sent.get(agency.agencyId));
    const shown = new Map(
      res.body.bySubAccount.map((s: { subAccountId: string; credits: number }) => [s.subAccountId, s.credits]),
    );
    sent.delete(agency.agencyId);
    expect(shown).toEqual(sent);
    const credits = res.body.bySubAccount.map((s: { credits: number }) => s.credits);
    expect(credits).toEqual([...credits].sort((a, b) => b - a));
  });
});
