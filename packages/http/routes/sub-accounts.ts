import { auditing, authenticating } from '#db/access';
import { keyPrefixes } from '#db/schema';
import { createSubAccountBody, listQuery, patchSubAccountBody } from '#domain/accounts/schemas';
import { allow } from '#domain/auth/principal';
import * as res from '../responses';
import { type HttpFunctionManifest, type RouteDef, standardNeeds } from '../route-def';

const subAccountScope = { param: 'subAccountId', kind: 'subAccount' } as const;

/** The agency's client accounts. */
export const subAccountRoutes = [
  {
    method: 'POST',
    path: '/v1/sub-accounts',
    fn: 'sub-accounts',
    summary: 'Create a sub-account; with a client login (the default) the client is emailed its password',
    allow: allow.agency,
    body: createSubAccountBody,
    status: 201,
    response: res.SubAccountCreated,
    refusals: ['email_taken', 'email_not_verified', 'quota_exceeded'],
  },
  {
    method: 'GET',
    path: '/v1/sub-accounts',
    fn: 'sub-accounts',
    summary: "List the agency's sub-accounts",
    allow: allow.agency,
    query: listQuery,
    status: 200,
    response: res.SubAccountList,
  },
  {
    method: 'GET',
    path: '/v1/sub-accounts/{subAccountId}',
    fn: 'sub-accounts',
    summary: 'Get a sub-account',
    allow: allow.agency,
    scope: subAccountScope,
    status: 200,
    response: res.SubAccountResponse,
  },
  {
    method: 'PATCH',
    path: '/v1/sub-accounts/{subAccountId}',
    fn: 'sub-accounts',
    summary:
      'Update a sub-account; autoRecharge {enabled, threshold, credits} needs reselling mode (else 409 wrong_credit_mode) and, enabled on a wallet already below the threshold, opens a recharge request at once',
    allow: allow.agency,
    scope: subAccountScope,
    body: patchSubAccountBody,
    status: 200,
    response: res.SubAccountResponse,
    refusals: ['feature_not_available', 'account_closed', 'wrong_credit_mode'],
  },
  {
    method: 'DELETE',
    path: '/v1/sub-accounts/{subAccountId}',
    fn: 'sub-accounts',
    summary: 'Close a sub-account (its history stays)',
    allow: allow.agency,
    scope: subAccountScope,
    status: 204,
  },
  {
    method: 'POST',
    path: '/v1/sub-accounts/{subAccountId}/reopen',
    fn: 'sub-accounts',
    summary:
      'Reopen a closed sub-account (within the quota; its history intact); its client logs in again only once …/credentials issues new credentials',
    allow: allow.agency,
    scope: subAccountScope,
    status: 200,
    response: res.SubAccountResponse,
    refusals: ['quota_exceeded', 'conflict'],
  },
  {
    method: 'POST',
    path: '/v1/sub-accounts/{subAccountId}/credentials',
    fn: 'sub-accounts',
    summary: "Give the client a login, or a new password: shown once, emailed; the client's earlier sessions end",
    allow: allow.agency,
    scope: subAccountScope,
    status: 201,
    response: res.ClientCredentials,
    refusals: ['email_taken', 'email_not_verified', 'account_closed'],
  },
] as const satisfies readonly RouteDef[];

/** The sub-accounts function (functions/http/sub-accounts.ts). */
export const subAccountsFunction = {
  name: 'sub-accounts',
  description: "The agency's client accounts",
  // Seals the generated password.
  needs: [...standardNeeds, 'sealEncrypt'],
  // A sub-account, its client user and email guard, and the credentials email's outbox item;
  // enabling auto-recharge below the threshold opens a request (and its delivery) at once.
  // creditsUsedThisMonth is the account's month rollup; closing or re-moding closes its lanes.
  tableKeys: [
    ...authenticating,
    keyPrefixes.email,
    keyPrefixes.outbox,
    keyPrefixes.recharge,
    keyPrefixes.webhook,
    keyPrefixes.lane,
    keyPrefixes.rollup,
    auditing,
  ],
  routes: subAccountRoutes,
} as const satisfies HttpFunctionManifest<'sub-accounts'>;
