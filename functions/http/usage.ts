import { table } from '../../packages/db/client';
import { entryView } from '../../packages/domain/ledger/entries';
import { recordUsage } from '../../packages/domain/ledger/usage';
import { httpHandler } from '../../packages/http/handler';
import { json, replayHeader } from '../../packages/http/response';
import { usageRoutes } from '../../packages/http/routes/usage';

table();

/** The hot path: one function, one use case, one DynamoDB call when warm. */
export const handler = httpHandler(usageRoutes, {
  'POST /v1/accounts/{accountId}/usage': async ({ principal, params, body, idempotencyKey }) => {
    const { entry, replayed } = await recordUsage(principal, params.accountId, body, idempotencyKey);
    return json(201, { entry: entryView(entry) }, replayHeader(replayed));
  },
});
