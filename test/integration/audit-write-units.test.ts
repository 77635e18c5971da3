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
import type { RouteKey } from '../../packages/http/routes';
import type { FidelityProxy } from '../../packages/local/dynamo-fidelity/proxy';
import { type AgencyFixture, createSubAccount, type SubAccountFixture, signUpAgency } from '../support/api';
import { invoke } from '../support/invoke';
import { createSubAccountOnly } from '../support/ledger';
import { stack } from '../support/stack';

type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

let proxy: FidelityProxy;
let fns: Record<'subs' | 'identity' | 'campaigns' | 'reselling', Handler>;
let agency: AgencyFixture;
let client: SubAccountFixture;
const measured: Array<{ route: string; status: number; auditUnits: number; allUnits: number }> = [];

beforeAll(async () => {
  const { startFidelityProxy } = await import('../../packages/local/dynamo-fidelity/proxy');
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
  };
  agency = await signUpAgency('pro');
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
});
