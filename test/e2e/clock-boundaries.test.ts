/**
 * Calendar boundaries crossed on purpose: each request runs at an instant the test sets (the
 * test stack's `x-test-clock`), 100 ms either side of a UTC month end and a UTC day end. The
 * monthly meter rolls over exactly at the month's end (the monthly limit), creditsUsedThisMonth
 * with it, and the usage rollups and daily series put each debit on its own UTC day. The
 * rollups are built from the table stream: the reads wait for it (`pipelineIdle`).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type AgencyFixture, api, createSubAccount, signUpAgency } from '../support/api';
import { expectStatus, patchSub, topUp } from '../support/ledger';
import { pipelineIdle } from '../support/pipeline';
import { stack } from '../support/stack';

let agency: AgencyFixture;
let limited: string;
let unlimited: string;
let key = 0;

const at = (clock: string, subAccountId = limited) => ({
  charge: (quantity: number) =>
    api('POST', `/v1/accounts/${subAccountId}/usage`, {
      token: stack.platformApiKey,
      headers: { 'idempotency-key': `clock-${subAccountId}-${key++}` },
      body: { type: 'campaign_message', quantity },
      clock,
    }),
  sub: () => api('GET', `/v1/sub-accounts/${subAccountId}`, { token: agency.token, clock }),
  usage: (query: string) => api('GET', `/v1/accounts/${subAccountId}/usage?${query}`, { token: agency.token, clock }),
});

// A month and a day long past, so nothing else in the run shares them; tokens issued now stay
// valid at those instants (they expire in the future).
const monthEnd = { before: '2026-03-31T23:59:59.900Z', after: '2026-04-01T00:00:00.100Z' };
const dayEnd = { before: '2026-04-02T23:59:59.900Z', after: '2026-04-03T00:00:00.100Z' };

beforeAll(async () => {
  agency = await signUpAgency('agency');
  [limited, unlimited] = (await Promise.all([createSubAccount(agency.token), createSubAccount(agency.token)])).map(
    (s) => s.subAccountId,
  ) as [string, string];
  expectStatus(await topUp(agency.agencyId, 1000), 201, 'top-up');
  expectStatus(await patchSub(agency.token, limited, { monthlyCreditLimit: 10 }), 200, 'limit');
});

describe('a UTC month end', () => {
  it('rolls the meter over exactly at midnight: usage, creditsUsedThisMonth and the monthly limit', async () => {
    const before = at(monthEnd.before);
    expectStatus(await before.charge(6), 201, 'charge in March');
    await pipelineIdle();
    expect((await before.sub()).body.subAccount.creditsUsedThisMonth).toBe(6);
    // March has 4 credits of room left: 5 is over the limit, in March.
    expect((await before.charge(5)).body.code).toBe('credit_limit_reached');

    const after = at(monthEnd.after);
    // 200 ms later it is April: nothing used this month, the whole limit is there again.
    expect((await after.sub()).body.subAccount.creditsUsedThisMonth).toBe(0);
    expectStatus(await after.charge(8), 201, 'charge in April');
    await pipelineIdle();
    expect((await after.sub()).body.subAccount.creditsUsedThisMonth).toBe(8);
    expect((await after.charge(3)).body.code).toBe('credit_limit_reached');
    expectStatus(await after.charge(2), 201, 'April up to the limit');
    await pipelineIdle();
    // March's usage stays March's: asked in March, creditsUsedThisMonth still says 6.
    expect((await before.sub()).body.subAccount.creditsUsedThisMonth).toBe(6);
    expect((await after.sub()).body.subAccount.creditsUsedThisMonth).toBe(10);

    // Asked about March from April, the counters still say what March used.
    const march = await after.usage('from=2026-03-01&to=2026-03-31');
    expect(march.body.total).toBe(6);
  });
});

describe('a UTC day end', () => {
  it('puts each debit on its own day in the counters and the daily series', async () => {
    const before = at(dayEnd.before, unlimited);
    const after = at(dayEnd.after, unlimited);
    expectStatus(await before.charge(2), 201, 'the last moment of 2 April');
    expectStatus(await after.charge(3), 201, 'the first moment of 3 April');
    await pipelineIdle();
    const usage = await after.usage('from=2026-04-01&to=2026-04-03');
    expect(usage.body.series).toEqual([
      { date: '2026-04-01', credits: 0 },
      { date: '2026-04-02', credits: 2 },
      { date: '2026-04-03', credits: 3 },
    ]);
    // "Up to yesterday", asked just after midnight, ends with 2 April and holds only its debit.
    const upToYesterday = await after.usage('to=2026-04-02');
    expect(upToYesterday.body).toMatchObject({ to: '2026-04-02', total: 2 });
    expect(upToYesterday.body.series.at(-1)).toEqual({ date: '2026-04-02', credits: 2 });
    // The default range ends today, as the pinned clock has it; the agency's dashboard agrees.
    expect((await after.usage('')).body).toMatchObject({ to: '2026-04-03', total: 5 });
    const dashboard = await api('GET', '/v1/credits/usage?from=2026-04-02&to=2026-04-03', {
      token: agency.token,
      clock: dayEnd.after,
    });
    expect(dashboard.body.series).toEqual([
      { date: '2026-04-02', credits: 2 },
      { date: '2026-04-03', credits: 3 },
    ]);
  });
});
