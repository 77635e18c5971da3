import { beforeAll, describe, expect, it, vi } from 'vitest';
import type * as Reads from '#db/read';
import { type AgencyFixture, api, createSubAccount, signUpAgency } from '../support/api';
import { campaignItemsIn } from '../support/campaigns';
import { meterTransactions } from '../support/transaction-meter';

/**
 * The transaction's own guards: a target that is closed or loses the feature AFTER the copy
 * read it must still fail the whole copy. We make the copy's one BatchGet see a stale, usable
 * target, so only the ConditionCheck in the TransactWriteItems can stop it.
 */
const stale = vi.hoisted(() => ({ ids: new Set<string>(), served: 0 }));
vi.mock('#db/read', async (importOriginal) => {
  const real = await importOriginal<typeof Reads>();
  return {
    ...real,
    getItems: async (list: Parameters<typeof real.getItems>[0]) => {
      const found = await real.getItems(list);
      if (stale.ids.size === 0) return found;
      for (const [k, item] of found) {
        if (!stale.ids.has(item.id as string)) continue;
        found.set(k, { ...item, status: 'active', features: ['campaigns'] });
        stale.served++;
      }
      stale.ids.clear(); // only the first read is stale; the re-read after the failure is real
      return found;
    },
  };
});

const { copyCampaign } = await import('#domain/campaigns/copy');
const { getAccount } = await import('#db/items/account');
const { dynamo } = await import('#db/client');
const transactions = meterTransactions(dynamo);

/** Proves the race was real: the stale read was served, and the transaction was tried and cancelled by its guard. */
async function expectGuardStopped(copy: Promise<unknown>, refusal: object) {
  const served = stale.served;
  const cancelled = transactions.conditionFailures;
  await expect(copy).rejects.toMatchObject(refusal);
  expect(stale.served).toBe(served + 1);
  expect(transactions.conditionFailures).toBe(cancelled + 1);
}

describe('copy transaction guards', () => {
  let agency: AgencyFixture;
  let sourceId: string;
  beforeAll(async () => {
    agency = await signUpAgency('agency');
    const res = await api('POST', `/v1/accounts/${agency.agencyId}/campaigns`, { token: agency.token, body: { name: 'Race' } });
    sourceId = res.body.campaign.id;
  });

  const copyAs = async (targetAccountIds: string[]) => {
    const principal = {
      kind: 'agency_user' as const,
      userId: agency.userId,
      agencyId: agency.agencyId,
      accountId: agency.agencyId,
      tokenId: 't',
      sessionVersion: 0,
    };
    return copyCampaign(principal, (await getAccount(agency.agencyId))!, sourceId, { targetAccountIds });
  };

  it('fails the whole copy when a target was closed after it was read (409)', async () => {
    const [ok, closing] = await Promise.all([createSubAccount(agency.token), createSubAccount(agency.token)]);
    expect((await api('DELETE', `/v1/sub-accounts/${closing.subAccountId}`, { token: agency.token })).status).toBe(204);
    stale.ids.add(closing.subAccountId);
    await expectGuardStopped(copyAs([ok.subAccountId, closing.subAccountId]), { code: 'account_closed', status: 409 });
    expect(await campaignItemsIn(ok.subAccountId)).toEqual([]);
    expect(await campaignItemsIn(closing.subAccountId)).toEqual([]);
  });

  it('fails the whole copy when a target lost the campaigns feature after it was read (403)', async () => {
    const [ok, stripped] = await Promise.all([createSubAccount(agency.token), createSubAccount(agency.token)]);
    const off = await api('PATCH', `/v1/sub-accounts/${stripped.subAccountId}`, {
      token: agency.token,
      body: { features: ['ai_bot'] },
    });
    expect(off.status).toBe(200);
    stale.ids.add(stripped.subAccountId);
    await expectGuardStopped(copyAs([ok.subAccountId, stripped.subAccountId]), { code: 'feature_not_enabled', status: 403 });
    expect(await campaignItemsIn(ok.subAccountId)).toEqual([]);
    expect(await campaignItemsIn(stripped.subAccountId)).toEqual([]);

    // The same call with nothing stale goes through: the guards pass for usable targets.
    const done = await copyAs([ok.subAccountId]);
    expect('campaigns' in done && done.campaigns).toHaveLength(1);
    expect(await campaignItemsIn(ok.subAccountId)).toHaveLength(1);
  });
});
