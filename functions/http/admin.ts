import { table } from '#db/client';
import { setAgency } from '#domain/accounts/agencies';
import { httpHandler } from '#http/handler';
import { json } from '#http/response';
import { adminFunction } from '#http/routes/admin';

table();

export const handler = httpHandler(adminFunction.routes, {
  'PATCH /v1/admin/agencies/{agencyId}': async ({ account, body }) => json(200, await setAgency(account, body)),
});
