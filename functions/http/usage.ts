import { table } from '#db/client';
import { entryView } from '#domain/ledger/entries';
import { recordUsage } from '#domain/ledger/usage';
import { type EventOutcome, recordUsageBatch } from '#domain/ledger/usage-batch';
import { httpHandler } from '#http/handler';
import { json, problemBody, replayHeader } from '#http/response';
import { usageFunction } from '#http/routes/usage';

table();

/** The hot path: one function, one use case, one DynamoDB call when warm. */
export const handler = httpHandler(usageFunction.routes, {
  'POST /v1/accounts/{accountId}/usage': async ({ principal, params, body, idempotencyKey }) => {
    const { entry, replayed } = await recordUsage(principal, params.accountId, body, idempotencyKey);
    return json(201, { entry: entryView(entry) }, replayHeader(replayed));
  },
  'POST /v1/usage/batch': async ({ principal, body }) => {
    const outcomes = await recordUsageBatch(principal, body.events);
    return json(200, { results: outcomes.map(resultView) });
  },
});

/** One event's answer, as the single route would give it: its entry (201) or its problem. */
const resultView = (o: EventOutcome) =>
  'entry' in o
    ? { idempotencyKey: o.idempotencyKey, status: 201, entry: entryView(o.entry) }
    : { idempotencyKey: o.idempotencyKey, status: o.refusal.status, problem: problemBody(o.refusal) };
