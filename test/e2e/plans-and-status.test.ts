/**
 * Plans and status belong to the platform (issue 8): sign-up is always starter; the platform's
 * PATCH /v1/admin/agencies/{agencyId} sets the plan (features follow, for the agency and, at
 * once, for every sub-account) and the status (suspended: every credential of the agency → 401).
 */
import { describe, expect, it } from 'vitest';
import {
  type AgencyFixture,
  api,
  assistToken,
  createSubAccount,
  setAgency,
  signUpAgency,
  uniq,
  uniqueEmail,
} from '../support/api';
import { accountItem } from '../support/ledger';
import { stack } from '../support/stack';

const ALL = ['campaigns', 'ai_bot', 'api_access', 'usage_export', 'white_label', 'reselling'];
const STARTER = ['campaigns', 'ai_bot'];

async function apiKey(agency: AgencyFixture): Promise<string> {
  const res = await api('POST', '/v1/api-keys', { token: agency.token, body: { name: uniq('key') } });
  expect(res.status, res.text).toBe(201);
  return res.body.key;
}

const subFeatures = async (agency: AgencyFixture, subAccountId: string) => {
  const res = await api('GET', `/v1/sub-accounts/${subAccountId}`, { token: agency.token });
  expect(res.status, res.text).toBe(200);
  return res.body.subAccount.features as string[];
};

describe('sign-up', () => {
  it('is always starter; a plan in the body is a 400 naming it, and nothing is written', async () => {
    const email = uniqueEmail('owner');
    const body = { agencyName: uniq('Agency'), name: 'Owner', email, password: 'correct-horse-1' };
    for (const plan of ['agency', 'pro', 'starter']) {
      const res = await api('POST', '/v1/agencies', { body: { ...body, plan } });
      expect(res.status, plan).toBe(400);
      expect(res.body.code).toBe('invalid_request');
      expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(['plan']);
    }
    // Nothing was written: the email is still free.
    const ok = await api('POST', '/v1/agencies', { body });
    expect(ok.status, ok.text).toBe(201);
    expect(ok.body.agency).toMatchObject({ plan: 'starter', features: STARTER, status: 'active' });
  });

  it('a starter agency cannot create API keys (403 feature_not_enabled)', async () => {
    const starter = await signUpAgency('starter');
    const res = await api('POST', '/v1/api-keys', { token: starter.token, body: { name: 'nope' } });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('feature_not_enabled');
    expect((await api('GET', '/v1/api-keys', { token: starter.token })).body.items).toEqual([]);
  });
});

describe('the platform sets the plan', () => {
  it('answers the agency with its plan and features; an empty body is a 400', async () => {
    const a = await signUpAgency('starter');
    const res = await setAgency(a.agencyId, { plan: 'pro' });
    expect(res.body.agency).toMatchObject({
      id: a.agencyId,
      plan: 'pro',
      features: ['campaigns', 'ai_bot', 'api_access', 'usage_export'],
      status: 'active',
    });
    const empty = await api('PATCH', `/v1/admin/agencies/${a.agencyId}`, { token: stack.platformApiKey, body: {} });
    expect(empty.status).toBe(400);
    const agencyItself = await api('PATCH', `/v1/admin/agencies/${a.agencyId}`, { token: a.token, body: { plan: 'agency' } });
    expect(agencyItself.status).toBe(403);
    expect((await accountItem(a.agencyId))?.plan).toBe('pro');
  });

  it('a downgrade stops the API keys (401), trims every sub-account at once; an upgrade gives sub-accounts nothing back', async () => {
    const a = await signUpAgency('agency');
    const key = await apiKey(a);
    const [s1, s2] = [await createSubAccount(a.token), await createSubAccount(a.token)];
    const patched = await api('PATCH', `/v1/sub-accounts/${s2.subAccountId}`, {
      token: a.token,
      body: { features: ['ai_bot', 'usage_export', 'reselling'] },
    });
    expect(patched.status, patched.text).toBe(200);
    expect(await subFeatures(a, s1.subAccountId)).toEqual(ALL);
    expect((await api('GET', '/v1/sub-accounts', { token: key })).status).toBe(200);

    const down = await setAgency(a.agencyId, { plan: 'starter' });
    expect(down.body.agency).toMatchObject({ plan: 'starter', features: STARTER });

    // The key: refused as a credential on every route; no new key can be made.
    for (const path of ['/v1/sub-accounts', '/v1/credits/balance', `/v1/sub-accounts/${s1.subAccountId}`]) {
      const res = await api('GET', path, { token: key });
      expect(res.status, path).toBe(401);
      expect(res.body.code).toBe('unauthenticated');
    }
    const newKey = await api('POST', '/v1/api-keys', { token: a.token, body: { name: 'after' } });
    expect(newKey.status).toBe(403);
    expect(newKey.body.code).toBe('feature_not_enabled');

    // Every sub-account now shows (and may use) only what the plan allows, in every view.
    expect(await subFeatures(a, s1.subAccountId)).toEqual(STARTER);
    expect(await subFeatures(a, s2.subAccountId)).toEqual(['ai_bot']);
    const list = await api('GET', '/v1/sub-accounts', { token: a.token });
    expect(Object.fromEntries(list.body.items.map((s: { id: string; features: string[] }) => [s.id, s.features]))).toEqual({
      [s1.subAccountId]: STARTER,
      [s2.subAccountId]: ['ai_bot'],
    });
    // ...and the agency's own plan-gated calls follow: the CSV export needs usage_export.
    const csv = await api('GET', '/v1/credits/transactions', { token: a.token, headers: { accept: 'text/csv' } });
    expect(csv.status).toBe(403);

    // An upgrade gives the agency its plan's features and its keys back, but no sub-account
    // gets a feature it lost: the agency allocates again.
    const up = await setAgency(a.agencyId, { plan: 'agency' });
    expect(up.body.agency.features).toEqual(ALL);
    expect((await api('GET', '/v1/sub-accounts', { token: key })).status).toBe(200);
    expect(await subFeatures(a, s1.subAccountId)).toEqual(STARTER);
    expect(await subFeatures(a, s2.subAccountId)).toEqual(['ai_bot']);
    const again = await api('PATCH', `/v1/sub-accounts/${s2.subAccountId}`, {
      token: a.token,
      body: { features: ['ai_bot', 'reselling'] },
    });
    expect(again.status, again.text).toBe(200);
    expect(again.body.subAccount.features).toEqual(['ai_bot', 'reselling']);
  });

  // Enforcement of the trimmed features by the pipeline: test/unit/plan-features.test.ts (no
  // sub-account route is gated by a feature a plan can lose yet).
  it('pro → starter trims a sub-account without rewriting it; campaigns (in every plan) stay usable', async () => {
    const a = await signUpAgency('pro');
    const sub = await createSubAccount(a.token);
    // api_access allocated to the sub-account under pro; pro → starter takes it away.
    expect(await subFeatures(a, sub.subAccountId)).toEqual(['campaigns', 'ai_bot', 'api_access', 'usage_export']);
    await setAgency(a.agencyId, { plan: 'starter' });
    expect(await subFeatures(a, sub.subAccountId)).toEqual(STARTER);
    // The stored allocation is left as it was; what counts is the allocation under the plan's history.
    expect((await accountItem(sub.subAccountId))?.features).toContain('api_access');
    // Campaigns is in every plan, so the client keeps its campaigns.
    const campaigns = await api('GET', `/v1/accounts/${sub.subAccountId}/campaigns`, { token: sub.token });
    expect(campaigns.status).toBe(200);
  });
});

describe('the platform suspends an agency', () => {
  it('every credential of it → 401: users, assist tokens, API keys and its clients; active again restores them', async () => {
    const a = await signUpAgency('agency');
    const other = await signUpAgency('agency');
    const key = await apiKey(a);
    const client = await createSubAccount(a.token);
    const assist = await assistToken(a.token, client.subAccountId);
    const calls: Array<[string, string, string]> = [
      ['agency user', a.token, '/v1/me'],
      ['agency user', a.token, `/v1/sub-accounts/${client.subAccountId}`],
      ['API key', key, '/v1/sub-accounts'],
      ['assist token', assist, '/v1/me'],
      ['assist token', assist, `/v1/accounts/${client.subAccountId}/usage`],
      ["client's session", client.token, '/v1/me'],
    ];
    for (const [who, token, path] of calls) expect((await api('GET', path, { token })).status, `${who} ${path}`).toBe(200);

    const suspended = await setAgency(a.agencyId, { status: 'suspended' });
    expect(suspended.body.agency).toMatchObject({ status: 'suspended', plan: 'agency' });
    for (const [who, token, path] of calls) {
      const res = await api('GET', path, { token });
      expect(res.status, `${who} ${path}`).toBe(401);
      expect(res.body.code).toBe('unauthenticated');
    }
    // Writes too, and nothing of another agency is touched.
    expect((await api('POST', '/v1/sub-accounts', { token: a.token, body: { name: 'X', email: uniqueEmail() } })).status).toBe(
      401,
    );
    expect((await api('GET', '/v1/me', { token: other.token })).status).toBe(200);

    const active = await setAgency(a.agencyId, { status: 'active' });
    expect(active.body.agency.status).toBe('active');
    for (const [who, token, path] of calls) expect((await api('GET', path, { token })).status, `${who} ${path}`).toBe(200);
  });
});
