/**
 * What authentication costs in DynamoDB calls, per kind of credential, counted on the SDK
 * client of handlers invoked in this process. Suspension and api_access are checked on every
 * request, so the agency item is read each time; it shares one BatchGet with whatever else the
 * request needs up front (the account in scope, the sub-account and revocation of a client or
 * assist token). The platform key on the usage route, the hot path, reads nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamo } from '#db/client';
import { handler as adminHandler } from '../../functions/http/admin';
import { handler as identityHandler } from '../../functions/http/identity';
import { handler as subAccountsHandler } from '../../functions/http/sub-accounts';
import { handler as usageHandler } from '../../functions/http/usage';
import {
  type AgencyFixture,
  api,
  assistToken,
  createSubAccount,
  type SubAccountFixture,
  signUpAgency,
  uniq,
} from '../support/api';
import { invoke } from '../support/invoke';
import { topUp } from '../support/ledger';
import { stack } from '../support/stack';

const calls: string[] = [];
const name = 'count-dynamodb-calls';

let agency: AgencyFixture;
let client: SubAccountFixture;
let key: string;
let assist: string;

beforeAll(async () => {
  agency = await signUpAgency('agency');
  client = await createSubAccount(agency.token);
  key = (await api('POST', '/v1/api-keys', { token: agency.token, body: { name: 'reads' } })).body.key;
  assist = await assistToken(agency.token, client.subAccountId);
  await topUp(agency.agencyId, 100);
  dynamo.middlewareStack.add(
    (next, context) => async (args) => {
      calls.push(context.commandName ?? '?');
      return next(args);
    },
    { step: 'initialize', name },
  );
});
afterAll(() => {
  dynamo.middlewareStack.remove(name);
});

async function counted(call: () => Promise<{ status: number }>, status = 200): Promise<string[]> {
  calls.length = 0;
  const res = await call();
  expect(res.status).toBe(status);
  return [...calls];
}

const getSub = (token: string) => () =>
  invoke(subAccountsHandler, 'GET /v1/sub-accounts/{subAccountId}', { params: { subAccountId: client.subAccountId }, token });
const me = (token: string) => () => invoke(identityHandler, 'GET /v1/me', { token });

describe('DynamoDB calls per request, by credential', () => {
  // After authentication, the route's own read: the sub-account's month of usage (its rollup).
  const routeOwn = 'BatchGetItemCommand';

  it('agency session on a scoped route: ONE BatchGet (agency + the account in scope)', async () => {
    expect(await counted(getSub(agency.token))).toEqual(['BatchGetItemCommand', routeOwn]);
  });

  it('API key on a scoped route: the key by its hash, then ONE BatchGet (agency + scope)', async () => {
    expect(await counted(getSub(key))).toEqual(['GetItemCommand', 'BatchGetItemCommand', routeOwn]);
  });

  it('client session and assist token: ONE BatchGet (own account + agency [+ revocation])', async () => {
    expect(await counted(me(client.token))).toEqual(['BatchGetItemCommand']);
    expect(await counted(me(assist))).toEqual(['BatchGetItemCommand']);
  });

  it('platform key on the usage route (warm): the debit transaction alone, no read', async () => {
    const charge = () =>
      invoke(usageHandler, 'POST /v1/accounts/{accountId}/usage', {
        params: { accountId: client.subAccountId },
        token: stack.platformApiKey,
        headers: { 'idempotency-key': uniq('reads') },
        body: { type: 'ai_response', quantity: 1 },
      });
    await charge(); // warm: this container learns the account and the pool
    expect(await counted(charge, 201)).toEqual(['TransactWriteItemsCommand']);
  });

  it('platform key on the admin PATCH: the agency in scope, then one transaction (its update and audit record)', async () => {
    const patch = () =>
      invoke(adminHandler, 'PATCH /v1/admin/agencies/{agencyId}', {
        params: { agencyId: agency.agencyId },
        token: stack.platformApiKey,
        body: { plan: 'agency' },
      });
    expect(await counted(patch)).toEqual(['BatchGetItemCommand', 'TransactWriteItemsCommand']);
  });
});
