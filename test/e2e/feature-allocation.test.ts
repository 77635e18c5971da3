import { beforeAll, describe, expect, it } from 'vitest';
import { type AgencyFixture, api, assistToken, createSubAccount, type SubAccountFixture, signUpAgency } from '../support/api';
import { campaignItemsIn } from '../support/campaigns';
import { getRaw } from '../support/table';

/** Per-sub-account feature allocation: the plan bounds it, the route table's `feature` enforces it. */
describe('feature allocation', () => {
  let agency: AgencyFixture;
  let client: SubAccountFixture;
  let campaignId: string;

  beforeAll(async () => {
    agency = await signUpAgency('agency');
    client = await createSubAccount(agency.token);
    const res = await api('POST', `/v1/accounts/${client.subAccountId}/campaigns`, {
      token: client.token,
      body: { name: 'Existing' },
    });
    campaignId = res.body.campaign.id;
  });

  const setFeatures = async (features: string[]) => {
    const res = await api('PATCH', `/v1/sub-accounts/${client.subAccountId}`, { token: agency.token, body: { features } });
    expect(res.status).toBe(200);
    expect(res.body.subAccount.features).toEqual(features);
  };

  const calls = () => {
    const base = `/v1/accounts/${client.subAccountId}/campaigns`;
    return [
      { method: 'POST', path: base, body: { name: 'New' } },
      { method: 'GET', path: base },
      { method: 'GET', path: `${base}/${campaignId}` },
      { method: 'PATCH', path: `${base}/${campaignId}`, body: { name: 'Changed' } },
      { method: 'POST', path: `${base}/${campaignId}/copy`, body: { targetAccountId: client.subAccountId } },
      { method: 'DELETE', path: `${base}/${campaignId}` },
    ];
  };

  it('gives a new sub-account every feature of the plan', async () => {
    const sub = await api('GET', `/v1/sub-accounts/${client.subAccountId}`, { token: agency.token });
    expect(sub.body.subAccount.features).toEqual([
      'campaigns',
      'ai_bot',
      'api_access',
      'usage_export',
      'white_label',
      'reselling',
    ]);
  });

  it('403s every campaign route once campaigns is taken away, for the client, switching and assist; works again once given back', async () => {
    await setFeatures(['ai_bot', 'reselling']);
    const assist = await assistToken(agency.token, client.subAccountId);
    for (const token of [client.token, agency.token, assist]) {
      for (const call of calls()) {
        const res = await api(call.method, call.path, { token, body: call.body });
        expect(res.status, `${call.method} ${call.path}`).toBe(403);
        expect(res.body.code).toBe('feature_not_enabled');
      }
    }
    // Nothing was created, renamed, copied or deleted.
    const items = await campaignItemsIn(client.subAccountId);
    expect(items.map((i) => [i.id, i.name])).toEqual([[campaignId, 'Existing']]);

    // The agency's own account keeps the feature: its routes are unaffected.
    expect((await api('GET', `/v1/accounts/${agency.agencyId}/campaigns`, { token: agency.token })).status).toBe(200);

    await setFeatures(['ai_bot', 'reselling', 'campaigns']);
    for (const token of [client.token, agency.token, assist]) {
      expect((await api('GET', `/v1/accounts/${client.subAccountId}/campaigns/${campaignId}`, { token })).status).toBe(200);
    }
    const expected = [201, 200, 200, 200, 201, 204];
    const got = [];
    for (const call of calls()) got.push((await api(call.method, call.path, { token: client.token, body: call.body })).status);
    expect(got).toEqual(expected);
  });

  it('refuses features beyond the plan with 403 feature_not_available and changes nothing', async () => {
    const starter = await signUpAgency('starter');
    const sub = await createSubAccount(starter.token);
    const before = await getRaw(`ACCOUNT#${sub.subAccountId}`, 'ACCOUNT');
    expect(before?.features).toEqual(['campaigns', 'ai_bot']);

    for (const features of [['campaigns', 'reselling'], ['api_access'], ['white_label', 'ai_bot']]) {
      const res = await api('PATCH', `/v1/sub-accounts/${sub.subAccountId}`, { token: starter.token, body: { features } });
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('feature_not_available');
      expect(res.body.errors[0].field).toBe('features');
    }
    // A name change riding along is refused too: all or nothing.
    const withName = await api('PATCH', `/v1/sub-accounts/${sub.subAccountId}`, {
      token: starter.token,
      body: { name: 'Renamed', features: ['reselling'] },
    });
    expect(withName.status).toBe(403);
    expect(await getRaw(`ACCOUNT#${sub.subAccountId}`, 'ACCOUNT')).toEqual(before);

    // Within the plan is fine, and an unknown feature is a 400.
    const ok = await api('PATCH', `/v1/sub-accounts/${sub.subAccountId}`, {
      token: starter.token,
      body: { features: ['ai_bot'] },
    });
    expect(ok.status).toBe(200);
    const unknown = await api('PATCH', `/v1/sub-accounts/${sub.subAccountId}`, {
      token: starter.token,
      body: { features: ['teleport'] },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors[0].field).toBe('features.0');
  });

  it('lets a pro agency grant api_access but not reselling', async () => {
    const pro = await signUpAgency('pro');
    const sub = await createSubAccount(pro.token);
    expect(
      (
        await api('PATCH', `/v1/sub-accounts/${sub.subAccountId}`, {
          token: pro.token,
          body: { features: ['api_access', 'usage_export'] },
        })
      ).status,
    ).toBe(200);
    const res = await api('PATCH', `/v1/sub-accounts/${sub.subAccountId}`, {
      token: pro.token,
      body: { features: ['reselling'] },
    });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('feature_not_available');
  });

  it('does not let a client change its own features', async () => {
    const res = await api('PATCH', `/v1/sub-accounts/${client.subAccountId}`, {
      token: client.token,
      body: { features: ['campaigns'] },
    });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('forbidden');
  });
});
