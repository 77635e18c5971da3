import { beforeAll, describe, expect, it } from 'vitest';
import { type AgencyFixture, api, assistToken, createSubAccount, type SubAccountFixture, signUpAgency } from '../support/api';
import { campaignItemsIn, richCampaign } from '../support/campaigns';
import { getRaw } from '../support/table';

describe('campaign CRUD', () => {
  let agency: AgencyFixture;
  let client: SubAccountFixture;
  beforeAll(async () => {
    agency = await signUpAgency('agency');
    client = await createSubAccount(agency.token);
  });

  it('creates, reads, lists, updates and deletes a campaign', async () => {
    const base = `/v1/accounts/${client.subAccountId}/campaigns`;
    const body = richCampaign(3);
    const created = await api('POST', base, { token: client.token, body });
    expect(created.status).toBe(201);
    const campaign = created.body.campaign;
    expect(campaign).toMatchObject({ ...body, accountId: client.subAccountId });
    expect(campaign.id).toMatch(/^cmp_/);
    expect(campaign.copiedFrom).toBeNull();
    expect(campaign.createdAt).toBe(campaign.updatedAt);

    const got = await api('GET', `${base}/${campaign.id}`, { token: client.token });
    expect(got.status).toBe(200);
    expect(got.body.campaign).toEqual(campaign);
    // The agency reaches the same campaign by switching to the sub-account.
    expect((await api('GET', `${base}/${campaign.id}`, { token: agency.token })).body.campaign).toEqual(campaign);

    const patched = await api('PATCH', `${base}/${campaign.id}`, {
      token: client.token,
      body: { name: 'Renamed', settings: { only: 1 } },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.campaign).toMatchObject({
      name: 'Renamed',
      settings: { only: 1 },
      faqs: body.faqs,
      configuration: body.configuration,
    });
    expect(patched.body.campaign.updatedAt >= campaign.updatedAt).toBe(true);
    expect((await api('GET', `${base}/${campaign.id}`, { token: client.token })).body.campaign.name).toBe('Renamed');

    const raw = await getRaw(`ACCOUNT#${client.subAccountId}`, `CAMPAIGN#${campaign.id}`);
    expect(raw).toMatchObject({ kind: 'campaign', id: campaign.id, accountId: client.subAccountId });

    expect((await api('DELETE', `${base}/${campaign.id}`, { token: client.token })).status).toBe(204);
    expect((await api('GET', `${base}/${campaign.id}`, { token: client.token })).status).toBe(404);
    expect((await api('PATCH', `${base}/${campaign.id}`, { token: client.token, body: { name: 'x' } })).status).toBe(404);
    expect((await api('DELETE', `${base}/${campaign.id}`, { token: client.token })).status).toBe(404);
    expect(await getRaw(`ACCOUNT#${client.subAccountId}`, `CAMPAIGN#${campaign.id}`)).toBeUndefined();
  });

  it('defaults the optional fields', async () => {
    const res = await api('POST', `/v1/accounts/${agency.agencyId}/campaigns`, { token: agency.token, body: { name: 'Bare' } });
    expect(res.status).toBe(201);
    expect(res.body.campaign).toMatchObject({
      name: 'Bare',
      settings: {},
      instructions: '',
      faqs: [],
      configuration: {},
      accountId: agency.agencyId,
    });
  });

  it('lists in creation order, page by page, never showing the account item', async () => {
    const sub = await createSubAccount(agency.token);
    const base = `/v1/accounts/${sub.subAccountId}/campaigns`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await api('POST', base, { token: agency.token, body: { name: `C${i}` } });
      ids.push(res.body.campaign.id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await api('GET', `${base}?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: sub.token });
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((c: { id: string }) => c.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(ids);
    expect((await api('GET', base, { token: sub.token })).body).toEqual({ items: expect.any(Array), nextCursor: null });
  });

  it("rejects another list's cursor and a bad limit with 400", async () => {
    const a = await createSubAccount(agency.token);
    const b = await createSubAccount(agency.token);
    for (const sub of [a, b]) {
      for (let i = 0; i < 2; i++)
        await api('POST', `/v1/accounts/${sub.subAccountId}/campaigns`, { token: agency.token, body: { name: `n${i}` } });
    }
    const page = await api('GET', `/v1/accounts/${a.subAccountId}/campaigns?limit=1`, { token: agency.token });
    expect(page.body.nextCursor).toEqual(expect.any(String));
    const foreign = await api('GET', `/v1/accounts/${b.subAccountId}/campaigns?cursor=${page.body.nextCursor}`, {
      token: agency.token,
    });
    expect(foreign.status).toBe(400);
    expect(foreign.body.errors).toEqual([{ field: 'cursor', message: 'invalid cursor' }]);
    const badLimit = await api('GET', `/v1/accounts/${a.subAccountId}/campaigns?limit=201`, { token: agency.token });
    expect(badLimit.status).toBe(400);
    expect(badLimit.body.errors[0].field).toBe('limit');
  });

  it('records the agency user behind an assist session as the actor', async () => {
    const assist = await assistToken(agency.token, client.subAccountId);
    const base = `/v1/accounts/${client.subAccountId}/campaigns`;
    const created = await api('POST', base, { token: assist, body: { name: 'Assisted' } });
    expect(created.status).toBe(201);
    expect(created.body.campaign.createdBy).toEqual({ type: 'assist', userId: agency.userId, accountId: client.subAccountId });
    const raw = await getRaw(`ACCOUNT#${client.subAccountId}`, `CAMPAIGN#${created.body.campaign.id}`);
    expect(raw?.createdBy).toEqual({ type: 'assist', userId: agency.userId, accountId: client.subAccountId });

    // Then the client edits it: updatedBy moves to the client user, createdBy stays.
    const me = await api('GET', '/v1/me', { token: client.token });
    const patched = await api('PATCH', `${base}/${created.body.campaign.id}`, {
      token: client.token,
      body: { instructions: 'mine now' },
    });
    expect(patched.body.campaign.createdBy).toEqual({ type: 'assist', userId: agency.userId, accountId: client.subAccountId });
    expect(patched.body.campaign.updatedBy).toEqual({ type: 'user', userId: me.body.principal.userId });

    const key = await api('POST', '/v1/api-keys', { token: agency.token, body: { name: 'server' } });
    const byKey = await api('POST', base, { token: key.body.key, body: { name: 'By key' } });
    expect(byKey.status).toBe(201);
    expect(byKey.body.campaign.createdBy).toEqual({ type: 'api_key', apiKeyId: key.body.id });
  });

  it('keeps a closed sub-account readable but refuses writes with 409', async () => {
    const sub = await createSubAccount(agency.token);
    const base = `/v1/accounts/${sub.subAccountId}/campaigns`;
    const created = await api('POST', base, { token: agency.token, body: { name: 'Before close' } });
    expect((await api('DELETE', `/v1/sub-accounts/${sub.subAccountId}`, { token: agency.token })).status).toBe(204);

    expect((await api('GET', base, { token: agency.token })).body.items).toHaveLength(1);
    expect((await api('GET', `${base}/${created.body.campaign.id}`, { token: agency.token })).status).toBe(200);
    const create = await api('POST', base, { token: agency.token, body: { name: 'After close' } });
    expect(create.status).toBe(409);
    expect(create.body.code).toBe('account_closed');
    expect((await api('PATCH', `${base}/${created.body.campaign.id}`, { token: agency.token, body: { name: 'x' } })).status).toBe(
      409,
    );
    expect((await api('DELETE', `${base}/${created.body.campaign.id}`, { token: agency.token })).status).toBe(409);
    expect(await campaignItemsIn(sub.subAccountId)).toHaveLength(1);
  });

  it('answers 401 without a token and 405 for a wrong method', async () => {
    const base = `/v1/accounts/${client.subAccountId}/campaigns`;
    expect((await api('GET', base)).status).toBe(401);
    const wrong = await api('PUT', base, { token: client.token, body: { name: 'x' } });
    expect(wrong.status).toBe(405);
  });
});
