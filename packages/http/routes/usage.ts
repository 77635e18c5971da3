import { authenticating } from '#db/access';
import { keyPrefixes } from '#db/schema';
import { allow } from '#domain/auth/principal';
import { MAX_BATCH_EVENTS, usageBatchBody, usageBody } from '#domain/ledger/schemas';
import * as res from '../responses';
import { type HttpFunctionManifest, type RouteDef, standardNeeds } from '../route-def';

/**
 * The debit path has its own small function and no scope read: the debit's own transaction
 * conditions prove the account exists, is active and may spend. Only the platform's services
 * meter usage: people act in the product, the platform charges for it.
 */
export const usageRoutes = [
  {
    method: 'POST',
    path: '/v1/accounts/{accountId}/usage',
    fn: 'usage',
    summary:
      'Charge usage (platform services only). 201 {entry}; 402 insufficient_credits or credit_limit_reached; 409 account_closed',
    allow: allow.platform,
    body: usageBody,
    idempotent: true,
    status: 201,
    response: res.UsageRecorded,
    refusals: ['insufficient_credits', 'credit_limit_reached', 'account_closed'],
    throttle: 'metering',
  },
  {
    method: 'POST',
    path: '/v1/usage/batch',
    fn: 'usage',
    summary: `Charge up to ${MAX_BATCH_EVENTS} usage events at once (platform services only). 200 {results}, one per event in order: what a single usage call with the event's key would answer (201 + entry, or its 402/404/409 problem). A malformed event or an account's key twice → 400, nothing charged`,
    allow: allow.platform,
    body: usageBatchBody,
    // 1,000 events of a few hundred bytes each; the gateway's own limit.
    maxBodyBytes: 1024 * 1024,
    status: 200,
    response: res.UsageBatchRecorded,
    throttle: 'metering',
  },
] as const satisfies readonly RouteDef[];

/** The usage function (functions/http/usage.ts). */
export const usageFunction = {
  name: 'usage',
  description: 'Metering: the platform charges usage to an account',
  needs: standardNeeds,
  // The debit: balances and meters (accounts), the entry (ledger), this container's lanes (lanes.ts).
  // Platform key only, but a user's token is still authenticated (USER#) before its 403.
  tableKeys: [...authenticating, keyPrefixes.ledger, keyPrefixes.lane],
  routes: usageRoutes,
} as const satisfies HttpFunctionManifest<'usage'>;
