import { table } from '../../packages/db/client';
import { issueClientCredentials } from '../../packages/domain/accounts/client-login';
import {
  closeSubAccount,
  createSubAccount,
  listSubAccounts,
  patchSubAccount,
  reopenSubAccount,
} from '../../packages/domain/accounts/sub-accounts';
import { subAccountViewOf } from '../../packages/domain/accounts/views';
import { httpHandler } from '../../packages/http/handler';
import { json, noContent } from '../../packages/http/response';
import { subAccountsFunction } from '../../packages/http/routes/sub-accounts';

table();

export const handler = httpHandler(subAccountsFunction.routes, {
  'POST /v1/sub-accounts': async ({ agency, body }) => json(201, await createSubAccount(agency, body)),
  'GET /v1/sub-accounts': async ({ agency, query }) => json(200, await listSubAccounts(agency, query)),
  'GET /v1/sub-accounts/{subAccountId}': async ({ account, agency }) =>
    json(200, { subAccount: await subAccountViewOf(account, agency) }),
  'PATCH /v1/sub-accounts/{subAccountId}': async ({ account, agency, body }) =>
    json(200, await patchSubAccount(account, agency, body)),
  'DELETE /v1/sub-accounts/{subAccountId}': async ({ account }) => {
    await closeSubAccount(account);
    return noContent();
  },
  'POST /v1/sub-accounts/{subAccountId}/reopen': async ({ account, agency }) =>
    json(200, await reopenSubAccount(account, agency)),
  'POST /v1/sub-accounts/{subAccountId}/credentials': async ({ account }) => json(201, await issueClientCredentials(account)),
});
