/**
 * Who may see which credits. Clients (and agency users assisting them) act as the
 * sub-account: they never see the agency's pool, its history or its dashboard, and no response
 * they can reach carries a balance — except the reselling wallet, which is the client's own.
 * Only the platform meters usage: people (clients, agency users assisting them) are refused.
 * Other tenants' usage and wallets are 404s, never 403s.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type AgencyFixture,
  type ApiResponse,
  api,
  assistToken,
  createSubAccount,
  type SubAccountFixture,
  signUpAgency,
} from '../support/api';
import { chargeUsage, expectStatus, grant, keyPaths, patchSub, topUp } from '../support/ledger';
import { pipelineIdle } from '../support/pipeline';

const BALANCE_KEYS = ['balance', 'balanceAfter'] as const;

let agency: AgencyFixture;
let a1: SubAccountFixture;
let a2: SubAccountFixture;
let assistA1: string;
let other: AgencyFixture;
let otherSub: SubAccountFixture;

/** Every response a sub-account principal received in this file, for the no-balance walk. */
const seenBySub: Array<{ what: string; res: ApiResponse }> = [];
async function asSub(what: string, call: Promise<ApiResponse>): Promise<ApiResponse> {
  const res = await call;
  seenBySub.push({ what, res });
  return res;
}

beforeAll(async () => {
  [agency, other] = await Promise.all([signUpAgency('agency'), signUpAgency('agency')]);
  [a1, a2, otherSub] = await Promise.all([
    createSubAccount(agency.token, 'A1'),
    createSubAccount(agency.token, 'A2'),
    createSubAccount(other.token, 'B1'),
  ]);
  assistA1 = await assistToken(agency.token, a1.subAccountId);
  expectStatus(await topUp(agency.agencyId, 100), 201, 'top-up A');
  expectStatus(await topUp(other.agencyId, 100), 201, 'top-up B');
});

describe('credit visibility for sub-account principals', () => {
  // Proves the agency-only credit views are closed to a client and to assist mode (403),
  // while the agency itself gets them (so the 403 is about the principal, nothing else).
  it.each([['/v1/credits/balance'], ['/v1/credits/transactions'], ['/v1/credits/usage']])(
    '%s is 403 for client and assist tokens',
    async (path) => {
      for (const [label, token] of [
        ['client', a1.token],
        ['assist', assistA1],
      ] as const) {
        const res = await asSub(`${label} GET ${path}`, api('GET', path, { token }));
        expect(res.status, label).toBe(403);
        expect(res.body.code, label).toBe('forbidden');
      }
      expect((await api('GET', path, { token: agency.token })).status).toBe(200);
    },
  );

  // Proves people never meter usage: only the platform's services charge. A client or an
  // agency user assisting it is refused (403) and nothing is charged; the platform's charge
  // then lands, and the client's own views show the usage but no balance.
  it('refuses usage from client and assist tokens; the platform charges it', async () => {
    for (const [label, token] of [
      ['client', a1.token],
      ['assist', assistA1],
    ] as const) {
      const res = await asSub(
        `${label} POST usage`,
        chargeUsage(a1.subAccountId, { type: 'ai_response', quantity: 3 }, { token }),
      );
      expect(res.status, label).toBe(403);
      expect(res.body.code).toBe('forbidden');
    }
    expect(
      (await api('GET', `/v1/credits/transactions?subAccountId=${a1.subAccountId}`, { token: agency.token })).body.items,
    ).toEqual([]);

    const res = await chargeUsage(a1.subAccountId, { type: 'ai_response', quantity: 3, contactId: 'c-1' });
    expect(res.status, res.text).toBe(201);
    expect(res.body.entry).toMatchObject({ credits: -3, subAccountId: a1.subAccountId, actor: { type: 'platform' } });
    const history = await api('GET', `/v1/credits/transactions?subAccountId=${a1.subAccountId}`, { token: agency.token });
    expect(history.body.items).toEqual([expect.objectContaining({ id: res.body.entry.id, credits: -3, balanceAfter: 97 })]);
  });

  // Proves the sub-account principal's own views work and carry no balance anywhere.
  it('gives clients their own usage, /v1/me and campaigns, with no balance key anywhere', async () => {
    const campaign = await asSub(
      'assist POST campaign',
      api('POST', `/v1/accounts/${a1.subAccountId}/campaigns`, {
        token: assistA1,
        body: { name: 'Visible', settings: {}, instructions: 'hi', faqs: [], configuration: {} },
      }),
    );
    expect(campaign.status, campaign.text).toBe(201);
    await pipelineIdle(); // the usage read below is the rollups', built from the stream
    for (const [label, token] of [
      ['client', a1.token],
      ['assist', assistA1],
    ] as const) {
      const usage = await asSub(`${label} GET usage`, api('GET', `/v1/accounts/${a1.subAccountId}/usage`, { token }));
      expect(usage.status).toBe(200);
      expect(usage.body).toMatchObject({ total: 3, byType: { ai_response: 3, campaign_message: 0 } });
      expect((await asSub(`${label} GET /v1/me`, api('GET', '/v1/me', { token }))).status).toBe(200);
      const campaigns = await asSub(`${label} GET campaigns`, api('GET', `/v1/accounts/${a1.subAccountId}/campaigns`, { token }));
      expect(campaigns.status).toBe(200);
      expect(campaigns.body.items.map((c: { id: string }) => c.id)).toContain(campaign.body.campaign.id);
      const one = await asSub(
        `${label} GET campaign`,
        api('GET', `/v1/accounts/${a1.subAccountId}/campaigns/${campaign.body.campaign.id}`, { token }),
      );
      expect(one.status).toBe(200);
      // In manual mode there is no wallet to show.
      expect(
        (await asSub(`${label} GET wallet (manual)`, api('GET', `/v1/accounts/${a1.subAccountId}/wallet`, { token }))).status,
      ).toBe(404);
    }
  });

  // Proves the one exception: a reselling client's own wallet shows its own balance.
  it('shows a reselling client its own wallet, and usage then comes out of it', async () => {
    for (const sub of [a1, a2]) {
      expectStatus(await patchSub(agency.token, sub.subAccountId, { creditMode: 'reselling' }), 200, 'switch to reselling');
      expectStatus(await grant(agency.token, sub.subAccountId, 40), 201, 'grant');
    }
    const charged = await chargeUsage(a1.subAccountId, { type: 'campaign_message', quantity: 5 });
    expect(charged.status, charged.text).toBe(201);
    for (const token of [a1.token, assistA1]) {
      const wallet = await api('GET', `/v1/accounts/${a1.subAccountId}/wallet`, { token });
      expect(wallet.status).toBe(200);
      expect(wallet.body).toMatchObject({ balance: 35, purchased: 40, consumed: 5 });
    }
    // The pool paid for the grants (2 × 40 moved out of it), not for the wallet charge.
    expect((await api('GET', '/v1/credits/balance', { token: agency.token })).body.balance).toBe(97 - 80);
  });

  // Proves a client reaches only its own account: a sibling's usage and wallet are 404
  // (the sibling is in reselling mode, so its wallet exists and the 404 is about reach).
  it("404s a sibling sub-account's usage and wallet for the client and assist", async () => {
    expect((await api('GET', `/v1/accounts/${a2.subAccountId}/wallet`, { token: agency.token })).status).toBe(200);
    expect((await api('GET', `/v1/accounts/${a2.subAccountId}/usage`, { token: a2.token })).status).toBe(200);
    for (const token of [a1.token, assistA1]) {
      for (const path of [
        `/v1/accounts/${a2.subAccountId}/usage`,
        `/v1/accounts/${a2.subAccountId}/wallet`,
        `/v1/accounts/${agency.agencyId}/usage`,
      ]) {
        const res = await asSub(`GET ${path}`, api('GET', path, { token }));
        expect(res.status, path).toBe(404);
        expect(res.body.code).toBe('not_found');
      }
    }
  });

  // Proves tenants are sealed: agency B (user or assist) cannot read agency A's sub usage or wallet.
  it("404s another agency's sub-account usage and wallet", async () => {
    const assistB = await assistToken(other.token, otherSub.subAccountId);
    for (const path of [
      `/v1/accounts/${a1.subAccountId}/usage`,
      `/v1/accounts/${a1.subAccountId}/wallet`,
      `/v1/accounts/${agency.agencyId}/usage`,
    ]) {
      for (const token of [other.token, otherSub.token, assistB]) {
        const res = await api('GET', path, { token });
        expect(res.status, path).toBe(404);
        expect(res.body.code).toBe('not_found');
      }
    }
    // …and its history and dashboard show nothing of A.
    const history = await api('GET', '/v1/credits/transactions', { token: other.token });
    expect(history.text).not.toContain(a1.subAccountId);
    await pipelineIdle(); // A's usage has reached the rollups: B's dashboard would show it now if it could
    expect((await api('GET', '/v1/credits/usage', { token: other.token })).body.total).toBe(0);
  });

  // Proves the walk above covered real traffic, and no sub-account response had a balance key
  // (the wallet view, the allowed exception, is not recorded in `seenBySub`).
  it('never put `balance` or `balanceAfter` in any response a sub-account principal got', () => {
    expect(seenBySub.length).toBeGreaterThan(15);
    const leaks = seenBySub.flatMap(({ what, res }) => keyPaths(res.body, BALANCE_KEYS).map((p) => `${what}: ${p}`));
    expect(leaks).toEqual([]);
  });
});
