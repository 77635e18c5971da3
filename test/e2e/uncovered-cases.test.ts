/**
 * Cases no other test reached: walking every page of the sub-account and API key lists; the
 * dashboards over a chosen from/to (and their 366-day cap, both sides of it); an agency's own
 * usage at /v1/accounts/{agencyId}/usage; a password change with the wrong current password;
 * `idempotency_key_reused` on top-ups and grants. Money moves and reads run at instants the
 * test sets (x-test-clock), so their days are known.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type AgencyFixture, api, createSubAccount, signUpAgency, uniq } from '../support/api';
import {
  allPages,
  chargeUsage,
  createSubAccountOnly,
  expectStatus,
  grant,
  ledgerSnapshot,
  patchSub,
  topUp,
} from '../support/ledger';
import { pipelineIdle } from '../support/pipeline';

const READ = '2026-02-25T12:00:00.000Z';
const at = (day: string) => `${day}T12:00:00.000Z`;

describe('every page, each item once', () => {
  let agency: AgencyFixture;
  beforeAll(async () => {
    agency = await signUpAgency('agency');
  });

  it('GET /v1/sub-accounts, two at a time', async () => {
    const created = [];
    for (let i = 0; i < 5; i++) created.push(await createSubAccountOnly(agency.token, `Paged ${i}`));
    const pages = await allPages<{ id: string }>('/v1/sub-accounts', agency.token, { limit: '2' });
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    const ids = pages.flat().map((s) => s.id);
    expect(ids.length, 'no item twice').toBe(new Set(ids).size);
    expect([...ids].sort()).toEqual([...created].sort());
  });

  it('GET /v1/api-keys, two at a time', async () => {
    const created: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = expectStatus(
        await api('POST', '/v1/api-keys', { token: agency.token, body: { name: `key ${i}` } }),
        201,
        'API key',
      );
      created.push(res.body.id);
    }
    const pages = await allPages<{ id: string }>('/v1/api-keys', agency.token, { limit: '2' });
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    const ids = pages.flat().map((k) => k.id);
    expect(ids.length, 'no item twice').toBe(new Set(ids).size);
    expect([...ids].sort()).toEqual([...created].sort());
  });
});

describe('dashboards over a chosen range', () => {
  let agency: AgencyFixture;
  let a: string;
  let b: string;
  beforeAll(async () => {
    agency = await signUpAgency('agency');
    [a, b] = await Promise.all([createSubAccountOnly(agency.token, 'Dash A'), createSubAccountOnly(agency.token, 'Dash B')]);
    expectStatus(await topUp(agency.agencyId, 1000, { clock: at('2026-02-01') }), 201, 'top-up');
    const charges: Array<[string, string, number]> = [
      [a, '2026-02-10', 2],
      [a, '2026-02-12', 3],
      [b, '2026-02-12', 4],
      [b, '2026-02-20', 5],
      [agency.agencyId, '2026-02-15', 7],
    ];
    for (const [account, day, quantity] of charges) {
      expectStatus(await chargeUsage(account, { type: 'ai_response', quantity }, { clock: at(day) }), 201, `charge ${day}`);
    }
    await pipelineIdle(); // the dashboards read the usage rollups, built from the stream
  });

  const usage = (path: string, query: string) => api('GET', `${path}?${query}`, { token: agency.token, clock: READ });

  it('the agency dashboard counts only the days asked for, per day and per sub-account', async () => {
    const res = await usage('/v1/credits/usage', 'from=2026-02-11&to=2026-02-20');
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(3 + 4 + 5 + 7);
    expect(res.body.series).toHaveLength(10);
    expect(res.body.series.filter((d: { credits: number }) => d.credits > 0)).toEqual([
      { date: '2026-02-12', credits: 7 },
      { date: '2026-02-15', credits: 7 },
      { date: '2026-02-20', credits: 5 },
    ]);
    expect(res.body.bySubAccount).toEqual(
      expect.arrayContaining([
        { subAccountId: a, name: 'Dash A', credits: 3 },
        { subAccountId: b, name: 'Dash B', credits: 9 },
      ]),
    );
  });

  it("one account's usage over a range; timestamps select their whole UTC days", async () => {
    const byDate = await usage(`/v1/accounts/${b}/usage`, 'from=2026-02-11&to=2026-02-19');
    expect([byDate.status, byDate.body.total]).toEqual([200, 4]);
    const byTime = await usage(`/v1/accounts/${a}/usage`, 'from=2026-02-11T08:00:00Z&to=2026-02-12T08:00:00Z');
    expect([byTime.body.from, byTime.body.to, byTime.body.total]).toEqual(['2026-02-11', '2026-02-12', 3]);
  });

  it('an agency reads its own usage at /v1/accounts/{agencyId}/usage: its own charges, not its clients', async () => {
    const res = await usage(`/v1/accounts/${agency.agencyId}/usage`, 'from=2026-02-01&to=2026-02-28');
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(7);
    expect(res.body.byType).toEqual({ ai_response: 7, campaign_message: 0 });
    expect(res.body.series.find((d: { date: string }) => d.date === '2026-02-15')).toEqual({ date: '2026-02-15', credits: 7 });
  });

  it.each([
    ['/v1/credits/usage', () => ''],
    ['/v1/accounts/{sub}/usage', () => a],
  ])('%s spans at most 366 days: 366 answered, 367 refused naming from', async (label, sub) => {
    const path = label.includes('{sub}') ? `/v1/accounts/${sub()}/usage` : label;
    const year = await usage(path, 'from=2025-01-01&to=2026-01-01');
    expect(year.status, year.text).toBe(200);
    expect(year.body.series).toHaveLength(366);
    const over = await usage(path, 'from=2025-01-01&to=2026-01-02');
    expect([over.status, over.body.code]).toEqual([400, 'invalid_request']);
    expect(over.body.errors.map((e: { field: string }) => e.field)).toEqual(['from']);
  });
});

describe('password change with the wrong current password', () => {
  it('is a 400 naming currentPassword; the password and the session stay as they were', async () => {
    const agency = await signUpAgency('starter', { verifyEmail: false });
    const res = await api('POST', '/v1/auth/password', {
      token: agency.token,
      body: { currentPassword: `${agency.password}-wrong`, newPassword: 'a-brand-new-password-42' },
    });
    expect([res.status, res.body.code]).toEqual([400, 'invalid_request']);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(['currentPassword']);
    expect((await api('GET', '/v1/me', { token: agency.token })).status).toBe(200);
    const login = (password: string) => api('POST', '/v1/auth/login', { body: { email: agency.email, password } });
    expect((await login('a-brand-new-password-42')).status).toBe(401);
    expect((await login(agency.password)).status).toBe(200);
  });
});

describe('idempotency_key_reused on top-ups and grants', () => {
  it('a top-up key sent again with another body is 409 and moves nothing', async () => {
    const agency = await signUpAgency('agency');
    const key = uniq('topup-key');
    expectStatus(await topUp(agency.agencyId, 100, { key, reference: 'first' }), 201, 'top-up');
    const before = await ledgerSnapshot(agency.agencyId);
    for (const [credits, reference] of [
      [200, 'first'],
      [100, 'another reference'],
    ] as const) {
      const again = await topUp(agency.agencyId, credits, { key, reference });
      expect([again.status, again.body.code], `${credits} ${reference}`).toEqual([409, 'idempotency_key_reused']);
    }
    expect(await ledgerSnapshot(agency.agencyId)).toEqual(before);
    // The same body again is a replay, not a refusal.
    const replay = await topUp(agency.agencyId, 100, { key, reference: 'first' });
    expect([replay.status, replay.headers.get('idempotent-replayed')]).toEqual([201, 'true']);
  });

  it('a grant key sent again with another amount is 409 and moves nothing', async () => {
    const agency = await signUpAgency('agency');
    expectStatus(await topUp(agency.agencyId, 1000), 201, 'top-up');
    const [one, two] = [await createSubAccount(agency.token), await createSubAccount(agency.token)];
    for (const s of [one, two])
      expectStatus(await patchSub(agency.token, s.subAccountId, { creditMode: 'reselling' }), 200, 'mode');
    const key = uniq('grant-key');
    expectStatus(await grant(agency.token, one.subAccountId, 50, { key }), 201, 'grant');
    const wallets = [one.subAccountId, two.subAccountId];
    const before = await ledgerSnapshot(agency.agencyId, wallets);
    const other = await grant(agency.token, one.subAccountId, 60, { key });
    expect([other.status, other.body.code]).toEqual([409, 'idempotency_key_reused']);
    expect(await ledgerSnapshot(agency.agencyId, wallets)).toEqual(before);
    expect(before.wallets[one.subAccountId]).toBe(50);
  });
});
