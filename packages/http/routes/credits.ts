import { authenticating } from '#db/access';
import { MAX_BALANCE } from '#db/items/balance';
import { keyPrefixes } from '#db/schema';
import { allow } from '#domain/auth/principal';
import { agencyUsageQuery, grantBody, topUpBody, transactionsQuery, usageQuery } from '#domain/ledger/schemas';
import * as res from '../responses';
import { type HttpFunctionManifest, type RouteDef, standardNeeds } from '../route-def';

/** Balances, top-ups and grants, the ledger's history and the usage dashboards. */
export const creditRoutes = [
  {
    method: 'POST',
    path: '/v1/admin/agencies/{agencyId}/credits',
    fn: 'credits',
    summary: `Platform top-up of an agency's pool. 201 {entry, balance}; a balance past ${MAX_BALANCE.toLocaleString('en-US')} credits → 409 balance_limit_exceeded`,
    allow: allow.platform,
    scope: { param: 'agencyId', kind: 'account' },
    body: topUpBody,
    idempotent: true,
    status: 201,
    response: res.CreditsMoved,
    refusals: ['balance_limit_exceeded'],
  },
  {
    method: 'POST',
    path: '/v1/sub-accounts/{subAccountId}/credits/grants',
    fn: 'credits',
    summary:
      "Move credits from the agency pool into a reselling sub-account's wallet, one transaction with a grant entry on each side. 201 {entry, balance} (the wallet's); the pool lacks them → 402 insufficient_credits, nothing moves; manual mode → 409 wrong_credit_mode. With requestId it fulfils that open recharge request in the same transaction: unknown → 404, fulfilled or expired → 409 recharge_request_closed",
    allow: allow.agency,
    scope: { param: 'subAccountId', kind: 'subAccount' },
    body: grantBody,
    idempotent: true,
    status: 201,
    response: res.CreditsMoved,
    refusals: [
      'insufficient_credits',
      'wrong_credit_mode',
      'account_closed',
      'balance_limit_exceeded',
      'recharge_request_closed',
    ],
  },
  {
    method: 'GET',
    path: '/v1/credits/balance',
    fn: 'credits',
    summary: "The agency pool's balance (agency only)",
    allow: allow.agency,
    status: 200,
    response: res.PoolBalance,
  },
  {
    method: 'GET',
    path: '/v1/credits/transactions',
    fn: 'credits',
    summary: 'Ledger entries, newest first, filterable; Accept: text/csv exports CSV (usage_export feature)',
    allow: allow.agency,
    query: transactionsQuery,
    status: 200,
    response: res.TransactionList,
    csv: true,
    refusals: ['feature_not_enabled'],
  },
  {
    method: 'GET',
    path: '/v1/credits/usage',
    fn: 'credits',
    summary:
      "Agency usage for whole days (at most 366) in one answer: total, daily series, the agency's own use, and its sub-accounts ranked by credits used, limit (default 50) a page; nextCursor gives the next ranks (same from/to)",
    allow: allow.agency,
    query: agencyUsageQuery,
    status: 200,
    response: res.AgencyUsage,
  },
  {
    method: 'GET',
    path: '/v1/accounts/{accountId}/usage',
    fn: 'credits',
    summary: "An account's own usage: total, by type, daily series (never a balance)",
    allow: allow.accountMembers,
    scope: { param: 'accountId', kind: 'account' },
    query: usageQuery,
    status: 200,
    response: res.AccountUsage,
  },
  {
    method: 'GET',
    path: '/v1/accounts/{accountId}/wallet',
    fn: 'credits',
    summary: "A reselling sub-account's wallet; manual mode → 404",
    allow: allow.accountMembers,
    scope: { param: 'accountId', kind: 'account' },
    status: 200,
    response: res.Wallet,
  },
] as const satisfies readonly RouteDef[];

/** The credits function (functions/http/credits.ts). */
export const creditsFunction = {
  name: 'credits',
  description: 'Balances, top-ups and grants, the transaction history and the usage dashboards',
  needs: standardNeeds,
  // A grant with a requestId fulfils that recharge request in its transaction; the dashboards read the usage rollups.
  tableKeys: [...authenticating, keyPrefixes.ledger, keyPrefixes.rollup, keyPrefixes.recharge, keyPrefixes.lane],
  routes: creditRoutes,
} as const satisfies HttpFunctionManifest<'credits'>;
