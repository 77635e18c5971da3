/**
 * The three calls the console was missing (issue 23, part 3): the agency's plan, features and
 * email confirmation on `GET /v1/me`; the platform's credit packages; reopening a closed
 * sub-account. Over HTTP against the local stack, every answer held to the published document
 * (support/api.ts); the quota case runs the handler in this process with its own quota.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { planFeatures } from '#domain/features';
import { offersView, platformTerms } from '#domain/reselling/offers';
import { handler as subAccountsHandler } from '../../functions/http/sub-accounts';
import {
  type AgencyFixture,
  api,
  assistToken,
  createSubAccount,
  emailsTo,
  type SubAccountFixture,
  signUpAgency,
} from '../support/api';
import { invoke } from '../support/invoke';
import { chargeUsage, createSubAccountOnly, expectStatus, topUp } from '../support/ledger';
import { pipelineIdle } from '../support/pipeline';

let agency: AgencyFixture;
let other: AgencyFixture;
let client: SubAccountFixture;

beforeAll(async () => {
  [agency, other] = await Promise.all([signUpAgency('pro'), signUpAgency('starter')]);
  client = await createSubAccount(agency.token);
}, 120_000);

describe('GET /v1/me for an agency', () => {
  it("answers the agency's plan, its features and that its email is confirmed", async () => {
    const me = expectStatus(await api('GET', '/v1/me', { token: agency.token }), 200).body;
    expect(me.agency).toEqual({ plan: 'pro', features: [...planFeatures.pro], emailVerified: true });
    // A later page of the switcher still says it (the console reads it from any page).
    const page = expectStatus(await api('GET', '/v1/me?limit=1', { token: agency.token }), 200).body;
    expect(page.agency).toEqual(me.agency);
  });

  it('says when the email is not confirmed yet', async () => {
    const fresh = await signUpAgency('starter', { verifyEmail: false });
    const me = expectStatus(await api('GET', '/v1/me', { token: fresh.token }), 200).body;
    expect(me.agency).toEqual({ plan: 'starter', features: [...planFeatures.starter], emailVerified: false });
  });

  it('tells a client or an assist session nothing of the plan', async () => {
    for (const token of [client.token, await assistToken(agency.token, client.subAccountId)]) {
      const me = expectStatus(await api('GET', '/v1/me', { token }), 200).body;
      expect(me).not.toHaveProperty('agency');
    }
  });

  it('refuses a bad limit, naming it', async () => {
    const res = await api('GET', '/v1/me?limit=0', { token: agency.token });
    expect([res.status, res.body.errors?.[0]?.field]).toEqual([400, 'limit']);
  });
});

describe('GET /v1/credits/packages', () => {
  it('answers the packages and price pool purchases are charged at, to agency users and API keys', async () => {
    const listed = expectStatus(await api('GET', '/v1/credits/packages', { token: agency.token }), 200).body;
    expect(listed).toEqual(offersView(platformTerms()));
    expect(listed.packages.length).toBeGreaterThan(0);
    const key = expectStatus(await api('POST', '/v1/api-keys', { token: agency.token, body: { name: 'billing' } }), 201).body.key;
    expect(expectStatus(await api('GET', '/v1/credits/packages', { token: key }), 200).body).toEqual(listed);

    // Buying a listed package charges its listed price.
    const pkg = listed.packages[0];
    const bought = await api('POST', '/v1/credits/purchases', {
      token: agency.token,
      body: { packageId: pkg.id },
      headers: { 'idempotency-key': randomUUID() },
    });
    expect(expectStatus(bought, 201).body.purchase).toMatchObject({
      credits: pkg.credits,
      amount: pkg.price,
      currency: listed.currency,
    });
  });

  it('refuses a client and an assist session (403)', async () => {
    for (const token of [client.token, await assistToken(agency.token, client.subAccountId)]) {
      const res = await api('GET', '/v1/credits/packages', { token });
      expect([res.status, res.body.code]).toEqual([403, 'forbidden']);
    }
  });
});

describe('POST /v1/sub-accounts/{id}/reopen', () => {
  const reopen = (id: string, token = agency.token) => api('POST', `/v1/sub-accounts/${id}/reopen`, { token });
  const close = async (id: string) =>
    expectStatus(await api('DELETE', `/v1/sub-accounts/${id}`, { token: agency.token }), 204, 'close');

  it('makes a closed sub-account active again with its history intact; the client logs in only with new credentials', async () => {
    const sub = await createSubAccount(agency.token);
    expectStatus(await topUp(agency.agencyId, 100), 201, 'top-up');
    expectStatus(await chargeUsage(sub.subAccountId, { type: 'ai_response', quantity: 3 }), 201, 'usage');
    const history = async () =>
      expectStatus(await api('GET', `/v1/credits/transactions?subAccountId=${sub.subAccountId}`, { token: agency.token }), 200)
        .body.items;
    const before = await history();
    expect(before).toHaveLength(1);
    await close(sub.subAccountId);

    const res = await reopen(sub.subAccountId);
    expect(res.status).toBe(200);
    expect(res.body.subAccount).toMatchObject({ id: sub.subAccountId, status: 'active', closedAt: null, clientLogin: false });
    expect(await history()).toEqual(before);
    // It is charged again, like any active sub-account.
    expectStatus(await chargeUsage(sub.subAccountId, { type: 'ai_response', quantity: 1 }), 201, 'usage after');

    // Neither the old password nor the old session, nor a reset link, lets the client in.
    const login = (password: string) => api('POST', '/v1/auth/login', { body: { email: sub.email, password } });
    expect((await login(sub.password)).status).toBe(401);
    expect((await api('GET', '/v1/me', { token: sub.token })).status).toBe(401);
    await pipelineIdle(); // the credentials email of its creation is in the inbox before the count
    const mailsBefore = (await emailsTo(sub.email)).length;
    expect((await api('POST', '/v1/auth/password-reset', { body: { email: sub.email } })).status).toBe(202);
    await pipelineIdle();
    expect(await emailsTo(sub.email)).toHaveLength(mailsBefore);

    const issued = expectStatus(
      await api('POST', `/v1/sub-accounts/${sub.subAccountId}/credentials`, { token: agency.token }),
      201,
    ).body;
    expect(expectStatus(await login(issued.password), 200).body.principal.accountId).toBe(sub.subAccountId);
    expect((await login(sub.password)).status).toBe(401);
  });

  it('refuses a sub-account that is not closed (409), and changes nothing', async () => {
    const sub = await createSubAccountOnly(agency.token);
    const res = await reopen(sub);
    expect([res.status, res.body.code]).toEqual([409, 'conflict']);
    expect((await api('GET', `/v1/sub-accounts/${sub}`, { token: agency.token })).body.subAccount.status).toBe('active');
  });

  it("answers 404 for another agency's sub-account and leaves it closed", async () => {
    const theirs = await createSubAccountOnly(other.token);
    expectStatus(await api('DELETE', `/v1/sub-accounts/${theirs}`, { token: other.token }), 204);
    const res = await reopen(theirs);
    expect([res.status, res.body.code]).toEqual([404, 'not_found']);
    expect((await api('GET', `/v1/sub-accounts/${theirs}`, { token: other.token })).body.subAccount.status).toBe('closed');
  });

  it('refuses a client and an assist session (403), and leaves it closed', async () => {
    const sub = await createSubAccountOnly(agency.token);
    await close(sub);
    for (const token of [client.token, await assistToken(agency.token, client.subAccountId)]) {
      const res = await reopen(sub, token);
      expect([res.status, res.body.code]).toEqual([403, 'forbidden']);
    }
    expect((await api('GET', `/v1/sub-accounts/${sub}`, { token: agency.token })).body.subAccount.status).toBe('closed');
  });
});

describe('reopen within the quota (the handler in this process)', () => {
  afterEach(() => {
    delete process.env.SUB_ACCOUNT_QUOTA;
  });

  it('refuses past a quota lowered since (403 quota_exceeded, nothing written), and reopens within it', async () => {
    const owner = await signUpAgency('starter');
    const [a, b] = [await createSubAccountOnly(owner.token), await createSubAccountOnly(owner.token)];
    expectStatus(await api('DELETE', `/v1/sub-accounts/${b}`, { token: owner.token }), 204);
    const call = () =>
      invoke(subAccountsHandler, 'POST /v1/sub-accounts/{subAccountId}/reopen', {
        token: owner.token,
        params: { subAccountId: b },
      });

    process.env.SUB_ACCOUNT_QUOTA = '1';
    const refused = await call();
    expect([refused.status, refused.body.code]).toEqual([403, 'quota_exceeded']);
    expect((await api('GET', `/v1/sub-accounts/${b}`, { token: owner.token })).body.subAccount.status).toBe('closed');

    process.env.SUB_ACCOUNT_QUOTA = '2';
    expect((await call()).status).toBe(200);
    const listed = (await api('GET', '/v1/sub-accounts', { token: owner.token })).body.items;
    expect(listed.map((s: { id: string; status: string }) => [s.id, s.status])).toEqual([
      [a, 'active'],
      [b, 'active'],
    ]);
  });
});
