/**
 * What the audit log costs in DynamoDB writes, per audited route, as AWS would bill it: the
 * handlers run in this process against the DynamoDB fidelity proxy (packages/local/dynamo-fidelity)
 * in front of the test stack's table, and the units billed to the agency's AUDIT# partition
 * are read from the proxy's per-partition counts. One record per write, in the write's own
 * transaction (2 units per started KB): never a second record, never outside the transaction.
 * The figures are printed for the report.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RouteKey } from '#http/routes';
import type { FidelityProxy } from '#local/dynamo-fidelity/proxy';
import { type AgencyFixture, createSubAccount, type SubAccountFixture, signUpAgency } from '../support/api';
import { invoke } from '../support/invoke';
import { createSubAccountOnly } from '../support/ledger';
import { stack } from '../support/stack';

type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

let proxy: FidelityProxy;
let fns: Record<'subs' | 'identity' | 'campaigns' | 'reselling' | 'webhooks' | 'admin' | 'public', Handler>;
let agency: AgencyFixture;
let client: SubAccountFixture;
const measured: Array<{ route: string; status: number; auditUnits: number; allUnits: number }> = [];

beforeAll(async () => {
  const { startFidelityProxy } = await import('#local/dynamo-fidelity/proxy');
  proxy = await startFidelityProxy({ target: stack.dynamoEndpoint, settings: { latency: false } });
  // Fresh handler modules whose DynamoDB client is made with the proxy as its endpoint.
  process.env.AWS_ENDPOINT_URL_DYNAMODB = proxy.url;
  vi.resetModules();
  const load = async (name: string) => ((await import(`../../functions/http/${name}.ts`)) as { handler: Handler }).handler;
  fns = {
    subs: await load('sub-accounts'),
    identity: await load('identity'),
    campaigns: await load('campaigns'),
    reselling: await load('reselling'),
    webhooks: await load('auto-recharge'),
    admin: await load('admin'),
    public: await load('public'),
  };
  agency = await signUpAgency('agency');
  client = await createSubAccount(agency.token);
}, 120_000);

afterAll(() => {
  process.env.AWS_ENDPOINT_URL_DYNAMODB = stack.dynamoEndpoint;
  proxy?.server.close();
  proxy?.server.closeAllConnections();
  console.log(
    `audit log write units per audited route (fidelity proxy):\n${measured.map((m) => `  ${m.route} → ${m.status}: audit ${m.auditUnits} of ${m.allUnits} units`).join('\n')}`,
  );
});

async function measure(fn: Handler, key: RouteKey, opts: Parameters<typeof invoke>[2]): Promise<number> {
  await proxy.reset();
  const res = await invoke(fn, key, { token: agency.token, ...opts });
  expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
  const s = await proxy.stats(100);
  const audit = s.hottest.tablePartitions.filter((p) => p.key.includes(' AUDIT#')).reduce((n, p) => n + p.units, 0);
  measured.push({ route: key, status: res.status, auditUnits: audit, allUnits: s.totals.writeUnits });
  return audit;
}

describe('the audit log in write units', () => {
  it('costs each audited route one transactional write of its record: 2 units', async () => {
    const sub = await createSubAccountOnly(agency.token);
    const closing = await createSubAccountOnly(agency.token);
    const cases: Array<[Handler, RouteKey, Parameters<typeof invoke>[2]]> = [
      [fns.subs, 'POST /v1/sub-accounts', { body: { name: 'Units', email: `${randomUUID()}@example.test` } }],
      [
        fns.subs,
        'PATCH /v1/sub-accounts/{subAccountId}',
        { params: { subAccountId: sub }, body: { name: 'Renamed', monthlyCreditLimit: 10 } },
      ],
      [fns.subs, 'POST /v1/sub-accounts/{subAccountId}/credentials', { params: { subAccountId: client.subAccountId } }],
      [fns.subs, 'DELETE /v1/sub-accounts/{subAccountId}', { params: { subAccountId: closing } }],
      [fns.subs, 'POST /v1/sub-accounts/{subAccountId}/reopen', { params: { subAccountId: closing } }],
      [fns.identity, 'POST /v1/api-keys', { body: { name: 'units' } }],
      [
        fns.campaigns,
        'POST /v1/accounts/{accountId}/campaigns',
        { params: { accountId: client.subAccountId }, body: { name: 'Units' } },
      ],
      [fns.reselling, 'PUT /v1/credits/alerts', { body: { poolBelow: 10 } }],
      [fns.reselling, 'PUT /v1/credits/auto-top-up', { body: { enabled: false, threshold: 10, credits: 1000 } }],
    ];
    for (const [fn, key, opts] of cases) expect(await measure(fn, key, opts), key).toBe(2);
    const keys = await invoke(fns.identity, 'GET /v1/api-keys', { token: agency.token });
    expect(await measure(fns.identity, 'DELETE /v1/api-keys/{apiKeyId}', { params: { apiKeyId: keys.body.items[0].id } })).toBe(
      2,
    );
  });

  it('costs the routes audited since the same: 2 units, one record, in the write’s transaction', async () => {
    const account = client.subAccountId;
    const made = await invoke(fns.campaigns, 'POST /v1/accounts/{accountId}/campaigns', {
      token: agency.token,
      params: { accountId: account },
      body: { name: 'Units' },
    });
    const campaignId = made.body.campaign.id as string;
    const endpoint = { url: 'http://127.0.0.1:9/units', events: ['sub_account.created'] };
    const cases: Array<[Handler, RouteKey, Parameters<typeof invoke>[2]]> = [
      [
        fns.campaigns,
        'PATCH /v1/accounts/{accountId}/campaigns/{campaignId}',
        { params: { accountId: account, campaignId }, body: { name: 'Renamed' } },
      ],
      [
        fns.campaigns,
        'POST /v1/accounts/{accountId}/campaigns/{campaignId}/copy',
        { params: { accountId: account, campaignId }, body: { targetAccountId: account } },
      ],
      [fns.campaigns, 'DELETE /v1/accounts/{accountId}/campaigns/{campaignId}', { params: { accountId: account, campaignId } }],
      [
        fns.reselling,
        'PUT /v1/reselling/pricing',
        { body: { currency: 'usd', perCreditPrice: '15', packages: [{ name: 'P', credits: 100, price: 1500 }] } },
      ],
      [fns.webhooks, 'PUT /v1/reselling/auto-recharge-webhook', { body: { url: 'http://127.0.0.1:9/a' } }],
      [fns.webhooks, 'PUT /v1/reselling/auto-recharge-webhook', { body: { url: 'http://127.0.0.1:9/b' } }],
      [fns.webhooks, 'POST /v1/reselling/auto-recharge-webhook/rotate-secret', {}],
      [fns.webhooks, 'POST /v1/reselling/auto-recharge-webhook/test', {}],
      [fns.webhooks, 'DELETE /v1/reselling/auto-recharge-webhook', {}],
      [fns.webhooks, 'POST /v1/webhook-endpoints', { body: endpoint }],
      [fns.identity, 'POST /v1/sub-accounts/{subAccountId}/assist', { params: { subAccountId: account } }],
      [fns.public, 'POST /v1/auth/login', { token: undefined, body: { email: agency.email, password: agency.password } }],
      [fns.public, 'POST /v1/auth/password-reset', { token: undefined, body: { email: agency.email } }],
      [fns.reselling, 'PUT /v1/credits/alerts', { body: { poolBelow: 11 } }],
    ];
    for (const [fn, key, opts] of cases) expect(await measure(fn, key, opts), key).toBe(2);
    const [made2] = (await invoke(fns.webhooks, 'GET /v1/webhook-endpoints', { token: agency.token })).body.items;
    const id = { webhookEndpointId: made2.id as string };
    expect(
      await measure(fns.webhooks, 'PATCH /v1/webhook-endpoints/{webhookEndpointId}', { params: id, body: { description: 'U' } }),
    ).toBe(2);
    expect(await measure(fns.webhooks, 'POST /v1/webhook-endpoints/{webhookEndpointId}/rotate-secret', { params: id })).toBe(2);
    expect(await measure(fns.webhooks, 'POST /v1/webhook-endpoints/{webhookEndpointId}/test', { params: id })).toBe(2);
    expect(await measure(fns.webhooks, 'DELETE /v1/webhook-endpoints/{webhookEndpointId}', { params: id })).toBe(2);
    const session = (
      await invoke(fns.public, 'POST /v1/auth/login', { body: { email: agency.email, password: agency.password } })
    ).body.token;
    expect(await measure(fns.identity, 'POST /v1/auth/logout', { token: session })).toBe(2);
    const assist = (
      await invoke(fns.identity, 'POST /v1/sub-accounts/{subAccountId}/assist', {
        token: agency.token,
        params: { subAccountId: account },
      })
    ).body.token;
    expect(await measure(fns.identity, 'POST /v1/assist/exit', { token: assist })).toBe(2);
    // Last: the platform takes the agency down a plan.
    const platform = { token: stack.platformApiKey, params: { agencyId: agency.agencyId }, body: { plan: 'pro' } };
    expect(await measure(fns.admin, 'PATCH /v1/admin/agencies/{agencyId}', platform)).toBe(2);
  });
});
