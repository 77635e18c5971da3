import { allow } from '../../domain/auth/principal';
import { usageBody } from '../../domain/ledger/schemas';
import * as res from '../responses';
import type { RouteDef } from '../route-def';

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
] as const satisfies readonly RouteDef[];
