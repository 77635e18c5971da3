/**
 * The usage rollups (issue 19: built from the table stream, no longer kept by each debit) say
 * exactly what the ledger says. Debits from the agency itself, two manual sub-accounts and a
 * reselling one land 100 ms either side of a UTC month end (a day end too) and of a day end,
 * instants set with `x-test-clock`; once the stream has carried them (`pipelineIdle`), every
 * reader agrees with the sums of the entries as the table holds them, per UTC day and month:
 * the agency dashboard (total, its own use, per named sub-account, daily), each account's own
 * usage (total, by type, daily), the reselling dashboard's daily consumption (the wallet's
 * part), and creditsUsedThisMonth on the list and on each sub-account, in each month.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type AgencyFixture, api, signUpAgency } from '../support/api';
import { createSubAccountOnly, expectStatus, grant, ledgerEntries, patchSub, type StoredEntry, topUp } from '../support/ledger';
import { pipelineIdle } from '../support/pipeline';
import { mapLimit } from '../support/routes';
import { stack } from '../support/stack';

const instants = [
  '2026-08-31T23:59:59.900Z', // the last moment of August
  '2026-09-01T00:00:00.100Z', // September's first
  '2026-09-01T23:59:59.900Z', // the end of 1 September
  '2026-09-02T00:00:00.100Z', // 2 September
];
const RANGE = 'from=2026-08-31&to=2026-09-02';
const DAYS = ['2026-08-31', '2026-09-01', '2026-09-02'];
const READ = '2026-09-02T12:00:00.000Z';

let agency: AgencyFixture;
let accounts: { id: string; name: string | null }[];
let reselling: string;
let usage: StoredEntry[];

const isUsage = (e: StoredEntry) => e.type === 'ai_response' || e.type === 'campaign_message';
const sum = (list: StoredEntry[]) => list.reduce((n, e) => n - e.credits, 0);
const day = (e: StoredEntry) => String(e.createdAt).slice(0, 10);
const month = (e: StoredEntry) => String(e.createdAt).slice(0, 7);
const read = (path: string, clock = READ) => api('GET', path, { token: agency.token, clock });

beforeAll(async () => {
  agency = await signUpAgency('agency');
  const names = ['Manual One', 'Manual Two', 'Reselling'];
  const subs = await Promise.all(names.map((name) => createSubAccountOnly(agency.token, name)));
  reselling = subs[2]!;
  accounts = [{ id: agency.agencyId, name: null }, ...subs.map((id, i) => ({ id, name: names[i]! }))];
  expectStatus(await topUp(agency.agencyId, 10_000), 201, 'top-up');
  expectStatus(await patchSub(agency.token, reselling, { creditMode: 'reselling' }), 200, 'reselling');
  expectStatus(await grant(agency.token, reselling, 2_000), 201, 'grant');

  // 5 debits per account per instant, of both types and varied sizes, 8 at a time.
  const debits = instants.flatMap((at, t) =>
    accounts.flatMap((a, i) =>
      Array.from({ length: 5 }, (_, k) => ({
        at,
        accountId: a.id,
        body: { type: (i + k) % 2 ? 'ai_response' : 'campaign_message', quantity: 1 + ((t * 7 + i * 3 + k) % 9) },
      })),
    ),
  );
  await mapLimit(debits, 8, async (d, n) => {
    const res = await api('POST', `/v1/accounts/${d.accountId}/usage`, {
      token: stack.platformApiKey,
      headers: { 'idempotency-key': `rollups-${n}` },
      body: d.body,
      clock: d.at,
    });
    expectStatus(res, 201, `debit ${n}`);
  });
  usage = (await ledgerEntries(agency.agencyId)).filter(isUsage);
  expect(usage).toHaveLength(debits.length);
  await pipelineIdle();
}, 120_000);

describe('the usage rollups equal the sums of the ledger entries', () => {
  it('in the agency dashboard: total, its own use, per named sub-account and per UTC day', async () => {
    const res = expectStatus(await read(`/v1/credits/usage?${RANGE}`), 200);
    expect(res.body.total).toBe(sum(usage));
    expect(res.body.agencyOwn).toBe(sum(usage.filter((e) => e.accountId === agency.agencyId)));
    const bySub = accounts
      .slice(1)
      .map((a) => ({ subAccountId: a.id, name: a.name, credits: sum(usage.filter((e) => e.accountId === a.id)) }))
      .sort((a, b) => b.credits - a.credits);
    expect(res.body.bySubAccount).toEqual(bySub);
    expect(res.body.series).toEqual(DAYS.map((date) => ({ date, credits: sum(usage.filter((e) => day(e) === date)) })));
    expect(res.body.nextCursor).toBeNull();
  });

  it("in each account's own usage: total, by type and per UTC day", async () => {
    for (const a of accounts) {
      const mine = usage.filter((e) => e.accountId === a.id);
      const res = expectStatus(await read(`/v1/accounts/${a.id}/usage?${RANGE}`), 200);
      expect(res.body).toMatchObject({
        total: sum(mine),
        byType: {
          ai_response: sum(mine.filter((e) => e.type === 'ai_response')),
          campaign_message: sum(mine.filter((e) => e.type === 'campaign_message')),
        },
      });
      expect(res.body.series).toEqual(DAYS.map((date) => ({ date, credits: sum(mine.filter((e) => day(e) === date)) })));
    }
  });

  it("in the reselling dashboard: each day's consumption is what the wallet paid", async () => {
    const res = expectStatus(await read(`/v1/reselling/dashboard?${RANGE}`), 200);
    const row = res.body.items.find((i: { subAccountId: string }) => i.subAccountId === reselling);
    const wallet = usage.filter((e) => e.balanceKind === 'wallet');
    expect(wallet.length).toBeGreaterThan(0);
    expect(row.series.map((d: { date: string; consumed: number }) => [d.date, d.consumed])).toEqual(
      DAYS.map((date) => [date, sum(wallet.filter((e) => day(e) === date))]),
    );
  });

  it('in creditsUsedThisMonth, on the list and on each sub-account, in August and in September', async () => {
    for (const [at, m] of [
      [instants[0]!, '2026-08'],
      [READ, '2026-09'],
    ] as const) {
      const expected = Object.fromEntries(
        accounts.slice(1).map((a) => [a.id, sum(usage.filter((e) => e.accountId === a.id && month(e) === m))]),
      );
      const list = expectStatus(await read('/v1/sub-accounts', at), 200);
      expect(
        Object.fromEntries(
          list.body.items.map((s: { id: string; creditsUsedThisMonth: number }) => [s.id, s.creditsUsedThisMonth]),
        ),
      ).toEqual(expected);
      for (const a of accounts.slice(1)) {
        expect((await read(`/v1/sub-accounts/${a.id}`, at)).body.subAccount.creditsUsedThisMonth).toBe(expected[a.id]);
      }
    }
  });
});
