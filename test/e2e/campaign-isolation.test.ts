import { beforeAll, describe, expect, it } from 'vitest';
import { type AgencyFixture, api, assistToken, createSubAccount, type SubAccountFixture, signUpAgency } from '../support/api';
import { campaignItemsIn } from '../support/campaigns';
import { getRaw } from '../support/table';

/** Every campaign route, for a given account and campaign id, with a valid body. */
function everyRoute(accountId: string, campaignId: string, targetAccountId: string) {
  const base = `/v1/accounts/${accountId}/campaigns`;
  return [
    { method: 'POST', path: base, body: { name: 'Intruder' } },
    { method: 'GET', path: base },
    { method: 'GET', path: `${base}/${campaignId}` },
    { method: 'PATCH', path: `${base}/${campaignId}`, body: { name: 'Hijacked' } },
    { method: 'DELETE', path: `${base}/${campaignId}` },
    { method: 'POST', path: `${base}/${campaignId}/copy`, body: { targetAccountId } },
  ];
}

describe('campaign isolation', () => {
  let agency: AgencyFixture;
  let other: AgencyFixture;
  let clientA: SubAccountFixture;
  let clientB: SubAccountFixture;
  let otherClient: SubAccountFixture;
  const campaigns: Record<string, string> = {};

  beforeAll(async () => {
    [agency, other] = await Promise.all([signUpAgency('agency'), signUpAgency('agency')]);
    [clientA, clientB, otherClient] = await Promise.all([
      createSubAccount(agency.token),
      createSubAccount(agency.token),
      createSubAccount(other.token),
    ]);
    for (const [accountId, token] of [
      [agency.agencyId, agency.token],
      [clientA.subAccountId, clientA.token],
      [clientB.subAccountId, clientB.token],
      [other.agencyId, other.token],
      [otherClient.subAccountId, otherClient.token],
    ] as const) {
      const res = await api('POST', `/v1/accounts/${accountId}/campaigns`, { token, body: { name: `Owned by ${accountId}` } });
      expect(res.status).toBe(201);
      campaigns[accountId] = res.body.campaign.id;
    }
  });

  async function expectAll404(token: string, accountId: string, campaignId: string, targetAccountId: string) {
    for (const call of everyRoute(accountId, campaignId, targetAccountId)) {
      const res = await api(call.method, call.path, { token, body: call.body });
      expect(res.status, `${call.method} ${call.path}`).toBe(404);
      expect(res.body.code).toBe('not_found');
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
  }

  async function expectUntouched() {
    for (const [accountId, campaignId] of Object.entries(campaigns)) {
      const raw = await getRaw(`ACCOUNT#${accountId}`, `CAMPAIGN#${campaignId}`);
      expect(raw?.name).toBe(`Owned by ${accountId}`);
      expect(await campaignItemsIn(accountId)).toHaveLength(1);
    }
  }

  it("404s another agency's accounts and campaigns on every route, for every kind of caller", async () => {
    const key = (await api('POST', '/v1/api-keys', { token: agency.token, body: { name: 'k' } })).body.key as string;
    const assist = await assistToken(agency.token, clientA.subAccountId);
    for (const token of [agency.token, key, clientA.token, assist]) {
      await expectAll404(token, other.agencyId, campaigns[other.agencyId]!, other.agencyId);
      await expectAll404(token, otherClient.subAccountId, campaigns[otherClient.subAccountId]!, otherClient.subAccountId);
    }
    await expectUntouched();
  });

  it("404s a campaign id of another tenant under the caller's own account", async () => {
    const ownBase = `/v1/accounts/${agency.agencyId}/campaigns`;
    for (const foreign of [campaigns[other.agencyId]!, campaigns[otherClient.subAccountId]!, campaigns[clientA.subAccountId]!]) {
      expect((await api('GET', `${ownBase}/${foreign}`, { token: agency.token })).status).toBe(404);
      expect((await api('PATCH', `${ownBase}/${foreign}`, { token: agency.token, body: { name: 'Hijacked' } })).status).toBe(404);
      expect((await api('DELETE', `${ownBase}/${foreign}`, { token: agency.token })).status).toBe(404);
      const copy = await api('POST', `${ownBase}/${foreign}/copy`, {
        token: agency.token,
        body: { targetAccountId: agency.agencyId },
      });
      expect(copy.status).toBe(404);
    }
    await expectUntouched();
  });

  it("404s a client reaching another client's account or the agency's, on every route", async () => {
    const assistA = await assistToken(agency.token, clientA.subAccountId);
    for (const token of [clientA.token, assistA]) {
      await expectAll404(token, clientB.subAccountId, campaigns[clientB.subAccountId]!, clientA.subAccountId);
      await expectAll404(token, agency.agencyId, campaigns[agency.agencyId]!, clientA.subAccountId);
      // Its own account, but another client's campaign id.
      const own = `/v1/accounts/${clientA.subAccountId}/campaigns/${campaigns[clientB.subAccountId]}`;
      expect((await api('GET', own, { token })).status).toBe(404);
      expect((await api('PATCH', own, { token, body: { name: 'Hijacked' } })).status).toBe(404);
      expect((await api('DELETE', own, { token })).status).toBe(404);
    }
    const list = await api('GET', `/v1/accounts/${agency.agencyId}/campaigns`, { token: clientA.token });
    expect(list.status).toBe(404);
    expect(list.text).not.toContain(campaigns[agency.agencyId]);
    await expectUntouched();
  });

  it('lists only the account in the path', async () => {
    for (const [accountId, campaignId] of Object.entries(campaigns)) {
      const token = accountId === other.agencyId || accountId === otherClient.subAccountId ? other.token : agency.token;
      const list = await api('GET', `/v1/accounts/${accountId}/campaigns`, { token });
      expect(list.body.items.map((c: { id: string }) => c.id)).toEqual([campaignId]);
    }
  });
});
