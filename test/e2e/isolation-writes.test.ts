/**
 * The isolation matrix (isolation.test.ts) with other tenants' ids in bodies and queries: a
 * campaign copied to another agency's accounts (or a client's to its sibling), a grant into
 * another agency's sub-account, a history filtered by another agency's sub-account. Each is a
 * 404 (or, for a filter, nothing of the other tenant's), and every item of both tenants is
 * deep-equal before and after. The positive controls of the write routes (the same calls with
 * the caller's own ids succeed, and write) are in write-controls.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { api, uniq } from '../support/api';
import { campaignItemsIn } from '../support/campaigns';
import { chargeUsage, expectStatus, grant, patchSub, topUp } from '../support/ledger';
import { createTenant, settleOutbox, type TenantFixture, tenantItems } from '../support/tenants';

let A: TenantFixture;
let B: TenantFixture;

beforeAll(async () => {
  [A, B] = await Promise.all([createTenant(2), createTenant(1)]);
  for (const t of [A, B]) expectStatus(await topUp(t.agency.agencyId, 1000), 201, 'top-up');
}, 180_000);

async function newCampaign(accountId: string): Promise<string> {
  const res = expectStatus(
    await api('POST', `/v1/accounts/${accountId}/campaigns`, { token: A.agency.token, body: { name: uniq('Own') } }),
    201,
    'campaign',
  );
  return res.body.campaign.id;
}

/** Runs `refused` and checks every item of both tenants is exactly as before. */
async function writesNothing(refused: () => Promise<void>) {
  await Promise.all([settleOutbox(A.agency.agencyId), settleOutbox(B.agency.agencyId)]);
  const before = await Promise.all([tenantItems(A), tenantItems(B)]);
  await refused();
  expect(await Promise.all([tenantItems(A), tenantItems(B)]), 'the items of both tenants').toEqual(before);
}

describe("other tenants' ids in bodies and queries", () => {
  it('a campaign copied to another agency’s accounts, or a client’s to its sibling: 404, nothing copied', async () => {
    const [a1, a2] = A.subs.map((s) => s.subAccountId) as [string, string];
    const b1 = B.subs[0]!.subAccountId;
    const source = await newCampaign(A.agency.agencyId);
    const own = await newCampaign(a1);
    const copy = (token: string, accountId: string, campaignId: string, body: Record<string, unknown>) =>
      api('POST', `/v1/accounts/${accountId}/campaigns/${campaignId}/copy`, { token, body });
    await writesNothing(async () => {
      for (const [label, token, accountId, campaignId, body] of [
        ["agency A → B's sub-account", A.agency.token, A.agency.agencyId, source, { targetAccountId: b1 }],
        ['agency A → agency B', A.agency.token, A.agency.agencyId, source, { targetAccountId: B.agency.agencyId }],
        ["agency A → A1 and B's sub-account", A.agency.token, A.agency.agencyId, source, { targetAccountIds: [a1, b1] }],
        ["A's API key → B's sub-account", A.apiKey.key, A.agency.agencyId, source, { targetAccountIds: [b1] }],
        ['client A1 → its sibling A2', A.subs[0]!.token, a1, own, { targetAccountId: a2 }],
        ['assist in A1 → A2', A.assist, a1, own, { targetAccountIds: [a2] }],
        ['client A1 → its agency', A.subs[0]!.token, a1, own, { targetAccountId: A.agency.agencyId }],
      ] as const) {
        const res = await copy(token, accountId, campaignId, body);
        expect([res.status, res.body.code], label).toEqual([404, 'not_found']);
      }
    });
    expect(await campaignItemsIn(b1), "B1 holds no campaign of A's").toEqual([]);
    // Control: the same copies to their own accounts go through.
    expect((await copy(A.agency.token, A.agency.agencyId, source, { targetAccountIds: [a1, a2] })).status).toBe(201);
    expect((await copy(A.subs[0]!.token, a1, own, { targetAccountId: a1 })).status).toBe(201);
  });

  it('a grant into another agency’s reselling sub-account: 404, nothing moved', async () => {
    const b1 = B.subs[0]!.subAccountId;
    expectStatus(await patchSub(B.agency.token, b1, { creditMode: 'reselling' }), 200, 'B1 reselling');
    await writesNothing(async () => {
      for (const token of [A.agency.token, A.apiKey.key]) {
        const res = await grant(token, b1, 5);
        expect([res.status, res.body.code]).toEqual([404, 'not_found']);
      }
    });
    // Control: B's own agency can.
    expect((await grant(B.agency.token, b1, 5)).status).toBe(201);
  });

  it('a history filtered by another agency’s sub-account shows none of it', async () => {
    const b1 = B.subs[0]!.subAccountId;
    expectStatus(await chargeUsage(b1, { type: 'ai_response', quantity: 1 }), 201, 'usage on B1');
    const filtered = (token: string, accept?: string) =>
      api('GET', `/v1/credits/transactions?subAccountId=${b1}`, { token, headers: accept ? { accept } : {} });
    // Control: B sees B1's charge through this very filter.
    const mine = await filtered(B.agency.token);
    expect(mine.body.items.length).toBeGreaterThan(0);
    for (const token of [A.agency.token, A.apiKey.key]) {
      const theirs = await filtered(token);
      expect([theirs.status, theirs.body.items]).toEqual([200, []]);
      const csv = await filtered(token, 'text/csv');
      expect(csv.status).toBe(200);
      expect(csv.text.trim().split('\n'), 'the CSV holds its header row only').toHaveLength(1);
    }
  });
});
