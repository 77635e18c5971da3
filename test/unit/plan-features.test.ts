/**
 * What a sub-account may use under its agency's plan history (`featuresOf`, `changePlan`), and
 * that `authorize` enforces exactly that: a feature the plan lost since the allocation was made
 * is refused, even when the stored allocation still lists it.
 */
import { describe, expect, it } from 'vitest';
import { newId } from '#core/ids';
import { type AccountItem, type AgencyItem, accountKey } from '#db/items/account';
import { itemId } from '#db/read';
import { changePlan, featuresOf, type Plan, planFeatures, plans } from '#domain/features';
import { authorize } from '#http/authorize';
import type { RouteDef } from '#http/route-def';

const agencyOn = (plan: Plan) => ({ plan, features: [...planFeatures[plan]], planEpoch: 0, featureRevokedAt: {} });
const move = (agency: ReturnType<typeof agencyOn>, plan: Plan) => ({ plan, ...changePlan(agency, plan) });

describe('featuresOf', () => {
  it('keeps an allocation within the plan as it is', () => {
    const agency = agencyOn('agency');
    expect(featuresOf({ features: ['ai_bot', 'reselling'], featuresEpoch: 0 }, agency)).toEqual(['ai_bot', 'reselling']);
  });

  it('drops what a downgrade took, and an upgrade does not give it back', () => {
    const before = agencyOn('agency');
    const allocation = { features: [...planFeatures.agency], featuresEpoch: before.planEpoch };
    const down = move(before, 'starter');
    expect(down.planEpoch).toBe(1);
    expect(featuresOf(allocation, down)).toEqual(['campaigns', 'ai_bot']);
    const up = move(down, 'agency');
    expect(up.planEpoch).toBe(1); // nothing lost, no new epoch
    expect(featuresOf(allocation, up)).toEqual(['campaigns', 'ai_bot']);
    // Allocated again after the upgrade: usable.
    expect(featuresOf({ features: ['reselling'], featuresEpoch: up.planEpoch }, up)).toEqual(['reselling']);
  });

  it('an allocation checked before a downgrade but written after it still loses what the downgrade took', () => {
    const seen = agencyOn('agency'); // the agency as the sub-account PATCH read it
    const down = move(seen, 'pro'); // the platform's downgrade lands before the PATCH's write
    expect(featuresOf({ features: ['api_access', 'reselling'], featuresEpoch: seen.planEpoch }, down)).toEqual(['api_access']);
    expect(featuresOf({ features: ['api_access', 'reselling'], featuresEpoch: seen.planEpoch }, move(down, 'agency'))).toEqual([
      'api_access',
    ]);
  });

  it('a second downgrade only stamps what it takes; older losses keep their epoch', () => {
    const one = move(agencyOn('agency'), 'pro');
    const two = move(one, 'starter');
    expect(two.featureRevokedAt).toEqual({ white_label: 1, reselling: 1, api_access: 2, usage_export: 2 });
  });

  // Campaign copies check the stored allocation inside their transaction (campaigns/copy.ts):
  // right only while no plan can lose `campaigns`.
  it('campaigns is in every plan', () => {
    for (const plan of plans) expect(planFeatures[plan], plan).toContain('campaigns');
  });
});

describe('authorize enforces featuresOf', () => {
  const agencyId = newId('agency');
  const subId = newId('subAccount');
  const route: RouteDef = {
    method: 'GET',
    path: '/v1/accounts/{accountId}/export',
    fn: 'credits',
    summary: 'test route',
    allow: ['agency_user'],
    scope: { param: 'accountId', kind: 'account' },
    feature: 'usage_export',
    status: 200,
  };
  const item = <T extends AccountItem>(fields: Partial<T>): T =>
    ({ kind: 'account', status: 'active', createdAt: '', updatedAt: '', name: 'x', ...fields }) as T;
  const sub = item({ id: subId, type: 'sub_account', agencyId, features: [...planFeatures.pro], featuresEpoch: 0 });
  const check = (agency: AgencyItem) =>
    authorize(
      route,
      {
        principal: { kind: 'agency_user', userId: newId('user'), agencyId, accountId: agencyId, tokenId: 'j', sessionVersion: 0 },
        agency,
      },
      { accountId: subId },
      new Map([[itemId(accountKey(subId)), sub as unknown as Record<string, unknown>]]),
    );

  it('lets the allocation through under the plan it was made on, refuses it after a downgrade', async () => {
    const pro = item<AgencyItem>({ id: agencyId, type: 'agency', agencyId, ...agencyOn('pro') });
    await expect(check(pro)).resolves.toMatchObject({ id: subId });
    const starter = item<AgencyItem>({ id: agencyId, type: 'agency', agencyId, ...move(agencyOn('pro'), 'starter') });
    await expect(check(starter)).rejects.toMatchObject({ code: 'feature_not_enabled' });
    const backToPro = item<AgencyItem>({
      id: agencyId,
      type: 'agency',
      agencyId,
      ...move(move(agencyOn('pro'), 'starter'), 'pro'),
    });
    await expect(check(backToPro)).rejects.toMatchObject({ code: 'feature_not_enabled' });
  });
});
