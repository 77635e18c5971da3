import { table } from '../../packages/db/client';
import { setAgency } from '../../packages/domain/accounts/agencies';
import { httpHandler } from '../../packages/http/handler';
import { json } from '../../packages/http/response';
import { adminFunction } from '../../packages/http/routes/admin';

table();

export const handler = httpHandler(adminFunction.routes, {
  'PATCH /v1/admin/agencies/{agencyId}': async ({ account, body }) => json(200, await setAgency(account, body)),
});
