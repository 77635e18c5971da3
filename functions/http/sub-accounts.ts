import { getAccount } from '../../packages/db/accounts';
import { table } from '../../packages/db/client';
import { closeSubAccount, createSubAccount, listSubAccounts, patchSubAccount } from '../../packages/domain/accounts/sub-accounts';
import { subAccountView } from '../../packages/domain/accounts/views';
import { httpHandler } from '../../packages/http/handler';
import { agencyOf } from '../../packages/http/principals';
import { json, noContent } from '../../packages/http/response';

table();

export const handler = httpHandler({
  'POST /v1/sub-accounts': async ({ principal, body }) => json(201, await createSubAccount(agencyOf(principal), body)),
  'GET /v1/sub-accounts': async ({ principal, query }) => json(200, await listSubAccounts(agencyOf(principal), query)),
  'GET /v1/sub-accounts/{subAccountId}': async ({ account }) => json(200, { subAccount: subAccountView(account!) }),
  'PATCH /v1/sub-accounts/{subAccountId}': async ({ principal, account, body }) => {
    const agency = await getAccount(agencyOf(principal));
    return json(200, await patchSubAccount(agency!, account!, body));
  },
  'DELETE /v1/sub-accounts/{subAccountId}': async ({ account }) => {
    await closeSubAccount(account!);
    return noContent();
  },
});
