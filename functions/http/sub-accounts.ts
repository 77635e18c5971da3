import { table } from '#db/client';
import { issueClientCredentials } from '#domain/accounts/client-login';
import {
  closeSubAccount,
  createSubAccount,
  listSubAccounts,
  patchSubAccount,
  reopenSubAccount,
} from '#domain/accounts/sub-accounts';
import { subAccountViewOf } from '#domain/accounts/views';
import { httpHandler } from '#http/handler';
import { json, noContent } from '#http/response';
import { subAccountsFunction } from '#http/routes/sub-accounts';

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
