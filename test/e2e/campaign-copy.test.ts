import { beforeAll, describe, expect, it } from 'vitest';
import {
  type AgencyFixture,
  api,
  assistToken,
  createSubAccount,
  type SubAccountFixture,
  signUpAgency,
  uniq,
  uniqueEmail,
} from '../support/api';
import { campaignItemsIn, richCampaign } from '../support/campaigns';

const content = (c: Record<string, unknown>) => {
  const { name, settings, instructions, faqs, configuration } = c;
  return { name, settings, instructions, faqs, configuration };
};

describe('copying a campaign', () => {
  let agency: AgencyFixture;
  let subs: SubAccountFixture[];
  let other: AgencyFixture;
  let foreignSub: SubAccountFixture;
  beforeAll(async () => {
    [agency, other] = await Promise.all([signUpAgency('agency'), signUpAgency('agency')]);
    subs = await Promise.all([0, 1, 2, 3].map(() => createSubAccount(agency.token)));
    foreignSub = await createSubAccount(other.token);
  });

  const createIn = async (accountId: string, token: string, body: object = richCampaign(20)) => {
    const res = await api('POST', `/v1/accounts/${accountId}/campaigns`, { token, body });
    expect(res.status).toBe(201);
    return res.body.campaign;
  };

  it('copies to three sub-accounts faithfully; editing a copy leaves the source alone', async () => {
    const source = await createIn(agency.agencyId, agency.token);
    const targets = subs.slice(0, 3).map((s) => s.subAccountId);
    const res = await api('POST', `/v1/accounts/${agency.agencyId}/campaigns/${source.id}/copy`, {
      token: agency.token,
      body: { targetAccountIds: targets },
    });
    expect(res.status).toBe(201);
    expect(res.body.campaigns.map((c: { accountId: string }) => c.accountId)).toEqual(targets);
    expect(new Set(res.body.campaigns.map((c: { id: string }) => c.id)).size).toBe(3);

    for (const copy of res.body.campaigns) {
      expect(copy.id).toMatch(/^cmp_/);
      expect(copy.id).not.toBe(source.id);
      expect(copy.copiedFrom).toEqual({ campaignId: source.id, accountId: agency.agencyId });
      // Read back through the API, as the client of that sub-account sees it.
      const sub = subs.find((s) => s.subAccountId === copy.accountId)!;
      const read = await api('GET', `/v1/accounts/${copy.accountId}/campaigns/${copy.id}`, { token: sub.token });
      expect(read.status).toBe(200);
      expect(content(read.body.campaign)).toEqual(content(source));
      expect(read.body.campaign.faqs).toHaveLength(20);
    }

    const first = res.body.campaigns[0];
    const edited = richCampaign(20);
    edited.configuration.flow.steps[0]!.next.when.reply.contains.push('oui');
    edited.faqs[0]!.answer = 'changed';
    const patch = await api('PATCH', `/v1/accounts/${first.accountId}/campaigns/${first.id}`, {
      token: agency.token,
      body: { configuration: edited.configuration, faqs: edited.faqs, name: 'Copy, edited' },
    });
    expect(patch.status).toBe(200);
    const after = await api('GET', `/v1/accounts/${agency.agencyId}/campaigns/${source.id}`, { token: agency.token });
    expect(after.body.campaign).toEqual(source);
    const sibling = await api('GET', `/v1/accounts/${targets[1]}/campaigns/${res.body.campaigns[1].id}`, { token: agency.token });
    expect(content(sibling.body.campaign)).toEqual(content(source));
  });

  it('copies sub → sub and sub → agency with the single form', async () => {
    const [a, b] = subs;
    const source = await createIn(a!.subAccountId, a!.token);
    const toSub = await api('POST', `/v1/accounts/${a!.subAccountId}/campaigns/${source.id}/copy`, {
      token: agency.token,
      body: { targetAccountId: b!.subAccountId },
    });
    expect(toSub.status).toBe(201);
    expect(toSub.body.campaigns).toBeUndefined();
    expect(toSub.body.campaign).toMatchObject({
      ...content(source),
      accountId: b!.subAccountId,
      copiedFrom: { campaignId: source.id, accountId: a!.subAccountId },
    });

    const toAgency = await api('POST', `/v1/accounts/${a!.subAccountId}/campaigns/${source.id}/copy`, {
      token: agency.token,
      body: { targetAccountId: agency.agencyId },
    });
    expect(toAgency.status).toBe(201);
    expect(toAgency.body.campaign.accountId).toBe(agency.agencyId);
    const listed = await api('GET', `/v1/accounts/${agency.agencyId}/campaigns/${toAgency.body.campaign.id}`, {
      token: agency.token,
    });
    expect(content(listed.body.campaign)).toEqual(content(source));
  });

  it('lets a sub-account (user or assist) duplicate within itself only', async () => {
    const [a, b] = subs;
    const source = await createIn(a!.subAccountId, a!.token, { name: 'Mine' });
    const url = `/v1/accounts/${a!.subAccountId}/campaigns/${source.id}/copy`;
    const dup = await api('POST', url, { token: a!.token, body: { targetAccountId: a!.subAccountId } });
    expect(dup.status).toBe(201);
    expect(dup.body.campaign).toMatchObject({ name: 'Mine', accountId: a!.subAccountId, copiedFrom: { campaignId: source.id } });

    const before = (await campaignItemsIn(b!.subAccountId)).length;
    const assist = await assistToken(agency.token, a!.subAccountId);
    for (const token of [a!.token, assist]) {
      for (const target of [b!.subAccountId, agency.agencyId]) {
        const res = await api('POST', url, { token, body: { targetAccountId: target } });
        expect(res.status).toBe(404);
        expect(res.body.code).toBe('not_found');
      }
      const mixed = await api('POST', url, { token, body: { targetAccountIds: [a!.subAccountId, b!.subAccountId] } });
      expect(mixed.status).toBe(404);
    }
    expect(await campaignItemsIn(b!.subAccountId)).toHaveLength(before);
    expect(await campaignItemsIn(agency.agencyId)).not.toContainEqual(
      expect.objectContaining({ copiedFrom: { campaignId: source.id, accountId: a!.subAccountId } }),
    );
  });

  it('writes nothing when one target belongs to another agency (404)', async () => {
    const source = await createIn(agency.agencyId, agency.token);
    const fresh = await Promise.all([createSubAccount(agency.token), createSubAccount(agency.token)]);
    const valid = fresh.map((s) => s.subAccountId);
    for (const targets of [
      [...valid, foreignSub.subAccountId],
      [foreignSub.subAccountId, ...valid],
      [valid[0]!, other.agencyId],
      [valid[0]!, 'sub_doesnotexist00000000000000'],
    ]) {
      const res = await api('POST', `/v1/accounts/${agency.agencyId}/campaigns/${source.id}/copy`, {
        token: agency.token,
        body: { targetAccountIds: targets },
      });
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('not_found');
    }
    for (const id of valid) expect(await campaignItemsIn(id)).toEqual([]);
    expect(await campaignItemsIn(foreignSub.subAccountId)).toEqual([]);
    expect(await campaignItemsIn(other.agencyId)).toEqual([]);
  });

  it('writes nothing when one target lacks the campaigns feature (403), and 409 for a closed target', async () => {
    const source = await createIn(agency.agencyId, agency.token);
    const [ok1, ok2, without, closed] = await Promise.all([0, 1, 2, 3].map(() => createSubAccount(agency.token)));
    const off = await api('PATCH', `/v1/sub-accounts/${without!.subAccountId}`, {
      token: agency.token,
      body: { features: ['ai_bot'] },
    });
    expect(off.status).toBe(200);
    const url = `/v1/accounts/${agency.agencyId}/campaigns/${source.id}/copy`;

    const res = await api('POST', url, {
      token: agency.token,
      body: { targetAccountIds: [ok1!.subAccountId, without!.subAccountId, ok2!.subAccountId] },
    });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('feature_not_enabled');
    expect(res.body.detail).toContain(without!.subAccountId);

    expect((await api('DELETE', `/v1/sub-accounts/${closed!.subAccountId}`, { token: agency.token })).status).toBe(204);
    const toClosed = await api('POST', url, {
      token: agency.token,
      body: { targetAccountIds: [ok1!.subAccountId, closed!.subAccountId] },
    });
    expect(toClosed.status).toBe(409);
    expect(toClosed.body.code).toBe('account_closed');

    // A foreign target wins over the feature problem: nothing about it is told apart.
    const mixed = await api('POST', url, {
      token: agency.token,
      body: { targetAccountIds: [without!.subAccountId, foreignSub.subAccountId] },
    });
    expect(mixed.status).toBe(404);

    for (const s of [ok1, ok2, without, closed]) expect(await campaignItemsIn(s!.subAccountId)).toEqual([]);

    // The same copy without the bad targets goes through.
    const good = await api('POST', url, {
      token: agency.token,
      body: { targetAccountIds: [ok1!.subAccountId, ok2!.subAccountId] },
    });
    expect(good.status).toBe(201);
    expect(await campaignItemsIn(ok1!.subAccountId)).toHaveLength(1);
  });

  it('copies to 25 targets at once and refuses a 26th, duplicates and mixed forms', async () => {
    const source = await createIn(agency.agencyId, agency.token, { name: 'Many' });
    const url = `/v1/accounts/${agency.agencyId}/campaigns/${source.id}/copy`;
    // The agency itself 25 times is not allowed (duplicates), so: 24 fresh subs + the agency.
    // Created without the client login createSubAccount does: these clients never sign in.
    const many = await Promise.all(
      Array.from({ length: 24 }, async () => {
        const res = await api('POST', '/v1/sub-accounts', {
          token: agency.token,
          body: { name: uniq('Bulk'), email: uniqueEmail('bulk') },
        });
        expect(res.status).toBe(201);
        return { subAccountId: res.body.subAccount.id as string };
      }),
    );
    const targets = [...many.map((s) => s.subAccountId), agency.agencyId];
    const res = await api('POST', url, { token: agency.token, body: { targetAccountIds: targets } });
    expect(res.status).toBe(201);
    expect(res.body.campaigns).toHaveLength(25);
    for (const s of many) expect(await campaignItemsIn(s.subAccountId)).toHaveLength(1);

    const before = await campaignItemsIn(subs[0]!.subAccountId);
    const tooMany = await api('POST', url, {
      token: agency.token,
      body: { targetAccountIds: [...targets, subs[0]!.subAccountId] },
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errors[0].field).toBe('targetAccountIds');
    const dup = await api('POST', url, {
      token: agency.token,
      body: { targetAccountIds: [subs[0]!.subAccountId, subs[0]!.subAccountId] },
    });
    expect(dup.status).toBe(400);
    expect(dup.body.errors).toEqual([{ field: 'targetAccountIds.1', message: 'duplicate account id' }]);
    const both = await api('POST', url, {
      token: agency.token,
      body: { targetAccountId: subs[0]!.subAccountId, targetAccountIds: [subs[1]!.subAccountId] },
    });
    expect(both.status).toBe(400);
    const neither = await api('POST', url, { token: agency.token, body: {} });
    expect(neither.status).toBe(400);
    expect(neither.body.errors[0].field).toBe('targetAccountId');
    const empty = await api('POST', url, { token: agency.token, body: { targetAccountIds: [] } });
    expect(empty.status).toBe(400);
    expect(await campaignItemsIn(subs[0]!.subAccountId)).toEqual(before);
  }, 120_000);

  it('404s a source campaign that is not in the account in the path', async () => {
    const [a, b] = subs;
    const source = await createIn(a!.subAccountId, a!.token, { name: 'Elsewhere' });
    const res = await api('POST', `/v1/accounts/${b!.subAccountId}/campaigns/${source.id}/copy`, {
      token: agency.token,
      body: { targetAccountId: b!.subAccountId },
    });
    expect(res.status).toBe(404);
  });
});
