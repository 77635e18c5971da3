/**
 * The isolation matrix (isolation.test.ts) grows in two directions.
 *
 * Positive controls for write routes: every authenticated write route that names an account
 * or object in its path is called by each principal kind it allows, with the very body the
 * matrix sends and the caller's OWN ids, and must succeed (or give the one documented business
 * refusal that comes after the id was resolved). So the matrix's 404 for a foreign id is the
 * foreign id's doing, not a body or a precondition that would fail anyway. A write route added
 * later fails here until it has a control.
 *
 * Other tenants' ids in bodies and queries: a campaign copied to another agency's accounts (or
 * a client's to its sibling), a grant into another agency's sub-account, a history filtered by
 * another agency's sub-account. Each is a 404 (or, for a filter, nothing of the other tenant's),
 * and every item of both tenants is deep-equal before and after.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RouteDef } from '../../packages/http/routes';
import { api, uniq, waitFor } from '../support/api';
import { campaignItemsIn } from '../support/campaigns';
import { chargeUsage, createSubAccountOnly, expectStatus, grant, patchSub, topUp } from '../support/ledger';
import { deliveriesOf, saveEndpoint } from '../support/recharge';
import {
  fillPath,
  fixtureBodies,
  keyOf,
  paramRole,
  pathParams,
  routeTable,
  sampleBody,
  sampleQuery,
  withQuery,
} from '../support/routes';
import { type Caller, callersOf, createTenant, settleOutbox, type TenantFixture, tenantItems } from '../support/tenants';

let A: TenantFixture;
let B: TenantFixture;

beforeAll(async () => {
  [A, B] = await Promise.all([createTenant(2), createTenant(1)]);
  for (const t of [A, B]) expectStatus(await topUp(t.agency.agencyId, 1000), 201, 'top-up');
}, 180_000);

// ---------------------------------------------------------------------------------------------
// Positive controls.

const writeRoutes = routeTable.filter((r) => r.method !== 'GET' && r.allow.length > 0 && pathParams(r.path).length > 0);

/** Writes that use up what they name: each call gets a fresh one of the tenant's own. */
const CONSUMES_ITS_TARGET = new Set([
  'DELETE /v1/sub-accounts/{subAccountId}',
  'POST /v1/sub-accounts/{subAccountId}/credentials',
]);

/** Refusals that come only after the ids were resolved as the caller's own (API.md), per route. */
const REFUSED_AFTER_RESOLVING: Record<string, string[]> = {
  // A manual-mode account does not buy credits: 409, where a foreign account is a 404.
  'POST /v1/accounts/{accountId}/credit-purchases': ['wrong_credit_mode'],
};

/** Bodies the matrix's sample would make harmful to the tenant (the sample's plan is starter). */
const SAFE_BODY: Record<string, Record<string, unknown>> = {
  'PATCH /v1/admin/agencies/{agencyId}': { plan: 'agency' },
};

async function newCampaign(accountId: string): Promise<string> {
  const res = expectStatus(
    await api('POST', `/v1/accounts/${accountId}/campaigns`, { token: A.agency.token, body: { name: uniq('Own') } }),
    201,
    'campaign',
  );
  return res.body.campaign.id;
}

/**
 * A webhook delivery of the agency's that has failed (only a failed one may be retried): the
 * endpoint names a closed port on 127.0.0.1, so each of the test stack's short attempts fails.
 */
async function failedDelivery(): Promise<string> {
  await saveEndpoint(A.agency.token, 'http://127.0.0.1:9/recharge');
  const sent = expectStatus(
    await api('POST', '/v1/reselling/auto-recharge-webhook/test', { token: A.agency.token }),
    202,
    'test',
  );
  const id = sent.body.deliveryId as string;
  await waitFor(
    async () => (await deliveriesOf(A.agency.token)).some((d) => d.id === id && d.status === 'failed'),
    30_000,
    'failed delivery',
  );
  return id;
}

/** The caller's own values for the route's path parameters, fresh where the call consumes them. */
async function ownValues(route: RouteDef, caller: Caller): Promise<{ values: Record<string, string>; home: string }> {
  const key = keyOf(route);
  let home = caller.home;
  if (CONSUMES_ITS_TARGET.has(key)) home = await createSubAccountOnly(A.agency.token);
  if (key === 'POST /v1/sub-accounts/{subAccountId}/credits/grants') {
    home = await createSubAccountOnly(A.agency.token);
    expectStatus(await patchSub(A.agency.token, home, { creditMode: 'reselling' }), 200, 'reselling');
  }
  const values: Record<string, string> = {};
  for (const name of pathParams(route.path)) {
    const role = paramRole(route, name);
    if (role !== 'object') values[name] = name === 'agencyId' ? A.agency.agencyId : home;
    else if (name === 'campaignId') values[name] = await newCampaign(home);
    else if (name === 'apiKeyId')
      values[name] = expectStatus(
        await api('POST', '/v1/api-keys', { token: A.agency.token, body: { name: uniq('own') } }),
        201,
        'API key',
      ).body.id;
    else if (name === 'deliveryId') values[name] = await failedDelivery();
    else throw new Error(`${key}: no own ${name} to name; teach ownValues how to make one`);
  }
  return { values, home };
}

describe('positive controls: write routes with the caller’s own ids', () => {
  it('the table has write routes with path parameters', () => {
    expect(writeRoutes.length).toBeGreaterThan(5);
  });

  for (const route of writeRoutes) {
    it(keyOf(route), async () => {
      const key = keyOf(route);
      const failures: string[] = [];
      let controls = 0;
      for (const caller of callersOf(A, 'A').filter((c) => route.allow.includes(c.kind))) {
        const { values, home } = await ownValues(route, caller);
        // The body the matrix sends (isolation.test.ts run()), with the caller's home.
        const body = route.body
          ? {
              ...sampleBody(route, 'iso'),
              ...fixtureBodies[key]?.({ home, agencyId: A.agency.agencyId }),
              ...SAFE_BODY[key],
            }
          : undefined;
        const res = await api(route.method, withQuery(fillPath(route.path, values), sampleQuery(route, 'iso')), {
          token: caller.token,
          body,
          headers: { 'idempotency-key': randomUUID() },
        });
        controls++;
        const accepted = res.status < 400 || (REFUSED_AFTER_RESOLVING[key] ?? []).includes(res.body?.code);
        if (!accepted) failures.push(`${caller.label}: ${res.status} ${res.text.slice(0, 200)}`);
      }
      expect(controls, 'every allowed kind was tried').toBeGreaterThan(0);
      expect(failures).toEqual([]);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Other tenants' ids in bodies and queries.

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
