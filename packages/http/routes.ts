/**
 * The route table, written once. CDK creates the API Gateway routes and the Lambda functions
 * from it; the local gateway matches requests with it; the HTTP pipeline reads each route's
 * auth, scope, feature and schemas from it; the OpenAPI document is generated from it.
 */
import type { z } from 'zod';
import {
  changePasswordBody,
  createApiKeyBody,
  createSubAccountBody,
  listQuery,
  loginBody,
  patchSubAccountBody,
  signupBody,
} from '../domain/accounts/schemas';
import { allow, type PrincipalKind } from '../domain/auth/principal';
import { copyCampaignBody, createCampaignBody, patchCampaignBody } from '../domain/campaigns/schemas';
import type { Feature } from '../domain/features';
import { grantBody, topUpBody, transactionsQuery, usageBody, usageQuery } from '../domain/ledger/schemas';
import { responses } from './responses';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** The Lambda functions that serve the API; each handles a group of related routes. */
export const httpFunctions = ['public', 'identity', 'sub-accounts', 'campaigns', 'usage', 'credits', 'fallback'] as const;
export type HttpFunction = (typeof httpFunctions)[number];

export interface RouteDef {
  method: HttpMethod;
  path: string;
  fn: HttpFunction;
  summary: string;
  /** Principal kinds allowed; empty = no authentication. Others get 403, none 401. */
  allow: PrincipalKind[];
  /**
   * Which path parameter names an account the caller must be able to reach (404 otherwise):
   * `accountId` — the agency itself or one of its sub-accounts (a sub-account: only itself);
   * `subAccountId` — only the agency's sub-accounts.
   */
  scope?: { param: string; kind: 'account' | 'subAccount' };
  /** A feature the account in scope (or the caller's own account) must have. */
  feature?: Feature;
  body?: z.ZodType;
  query?: z.ZodType;
  /** Money-moving calls: an Idempotency-Key header is required. */
  idempotent?: boolean;
  status: number;
  /** The success body's shape (packages/http/responses.ts); absent for 204s. */
  response?: z.ZodType;
}

const r = (def: RouteDef) => def;

export const routes = [
  r({
    method: 'GET',
    path: '/v1/health',
    fn: 'public',
    summary: 'Liveness check',
    allow: allow.anyone,
    status: 200,
    response: responses.health,
  }),
  r({
    method: 'GET',
    path: '/v1/openapi.json',
    fn: 'public',
    summary: 'This API as OpenAPI 3.1',
    allow: allow.anyone,
    status: 200,
    response: responses.openapi,
  }),
  r({
    method: 'POST',
    path: '/v1/agencies',
    fn: 'public',
    summary: 'Sign up an agency and its first user',
    allow: allow.anyone,
    body: signupBody,
    status: 201,
    response: responses.signup,
  }),
  r({
    method: 'POST',
    path: '/v1/auth/login',
    fn: 'public',
    summary: 'Log in with email and password',
    allow: allow.anyone,
    body: loginBody,
    status: 200,
    response: responses.login,
  }),

  r({
    method: 'POST',
    path: '/v1/auth/password',
    fn: 'identity',
    summary: 'Change your password',
    allow: ['agency_user', 'sub_account_user'],
    body: changePasswordBody,
    status: 204,
  }),
  r({
    method: 'GET',
    path: '/v1/me',
    fn: 'identity',
    summary: 'The caller and the accounts it can switch to',
    allow: allow.users,
    status: 200,
    response: responses.me,
  }),
  r({
    method: 'POST',
    path: '/v1/api-keys',
    fn: 'identity',
    summary: 'Create an agency API key (shown once)',
    allow: allow.agencyUser,
    body: createApiKeyBody,
    status: 201,
    response: responses.apiKeyCreated,
  }),
  r({
    method: 'GET',
    path: '/v1/api-keys',
    fn: 'identity',
    summary: "List the agency's API keys",
    allow: allow.agencyUser,
    query: listQuery,
    status: 200,
    response: responses.apiKeys,
  }),
  r({
    method: 'DELETE',
    path: '/v1/api-keys/{apiKeyId}',
    fn: 'identity',
    summary: 'Revoke an API key',
    allow: allow.agencyUser,
    status: 204,
  }),
  r({
    method: 'POST',
    path: '/v1/sub-accounts/{subAccountId}/assist',
    fn: 'identity',
    summary: 'Enter assist mode: act as the sub-account',
    allow: allow.agencyUser,
    scope: { param: 'subAccountId', kind: 'subAccount' },
    status: 201,
    response: responses.assist,
  }),
  r({
    method: 'POST',
    path: '/v1/assist/exit',
    fn: 'identity',
    summary: 'Return to agency: revoke this assist token',
    allow: allow.assist,
    status: 204,
  }),

  r({
    method: 'POST',
    path: '/v1/sub-accounts',
    fn: 'sub-accounts',
    summary: 'Create a sub-account; the client is emailed its login',
    allow: allow.agency,
    body: createSubAccountBody,
    status: 201,
    response: responses.subAccountCreated,
  }),
  r({
    method: 'GET',
    path: '/v1/sub-accounts',
    fn: 'sub-accounts',
    summary: "List the agency's sub-accounts",
    allow: allow.agency,
    query: listQuery,
    status: 200,
    response: responses.subAccounts,
  }),
  r({
    method: 'GET',
    path: '/v1/sub-accounts/{subAccountId}',
    fn: 'sub-accounts',
    summary: 'Get a sub-account',
    allow: allow.agency,
    scope: { param: 'subAccountId', kind: 'subAccount' },
    status: 200,
    response: responses.subAccount,
  }),
  r({
    method: 'PATCH',
    path: '/v1/sub-accounts/{subAccountId}',
    fn: 'sub-accounts',
    summary: 'Update a sub-account',
    allow: allow.agency,
    scope: { param: 'subAccountId', kind: 'subAccount' },
    body: patchSubAccountBody,
    status: 200,
    response: responses.subAccount,
  }),
  r({
    method: 'DELETE',
    path: '/v1/sub-accounts/{subAccountId}',
    fn: 'sub-accounts',
    summary: 'Close a sub-account (its history stays)',
    allow: allow.agency,
    scope: { param: 'subAccountId', kind: 'subAccount' },
    status: 204,
  }),

  // Campaigns: account-scoped (switching/assist reach a sub-account's), feature checked on the account in scope.
  r({
    method: 'POST',
    path: '/v1/accounts/{accountId}/campaigns',
    fn: 'campaigns',
    summary: 'Create a campaign; 201 {campaign}. A closed account → 409',
    allow: allow.accountMembers,
    scope: { param: 'accountId', kind: 'account' },
    feature: 'campaigns',
    body: createCampaignBody,
    status: 201,
    response: responses.campaign,
  }),
  r({
    method: 'GET',
    path: '/v1/accounts/{accountId}/campaigns',
    fn: 'campaigns',
    summary: "List the account's campaigns, oldest first",
    allow: allow.accountMembers,
    scope: { param: 'accountId', kind: 'account' },
    feature: 'campaigns',
    query: listQuery,
    status: 200,
    response: responses.campaigns,
  }),
  r({
    method: 'GET',
    path: '/v1/accounts/{accountId}/campaigns/{campaignId}',
    fn: 'campaigns',
    summary: 'Get a campaign; 200 {campaign}',
    allow: allow.accountMembers,
    scope: { param: 'accountId', kind: 'account' },
    feature: 'campaigns',
    status: 200,
    response: responses.campaign,
  }),
  r({
    method: 'PATCH',
    path: '/v1/accounts/{accountId}/campaigns/{campaignId}',
    fn: 'campaigns',
    summary: 'Update a campaign; each field given replaces the stored one whole. 200 {campaign}',
    allow: allow.accountMembers,
    scope: { param: 'accountId', kind: 'account' },
    feature: 'campaigns',
    body: patchCampaignBody,
    status: 200,
    response: responses.campaign,
  }),
  r({
    method: 'DELETE',
    path: '/v1/accounts/{accountId}/campaigns/{campaignId}',
    fn: 'campaigns',
    summary: 'Delete a campaign',
    allow: allow.accountMembers,
    scope: { param: 'accountId', kind: 'account' },
    feature: 'campaigns',
    status: 204,
  }),
  r({
    method: 'POST',
    path: '/v1/accounts/{accountId}/campaigns/{campaignId}/copy',
    fn: 'campaigns',
    summary:
      'Copy a campaign to the agency or its sub-accounts, all or none. {targetAccountId} → 201 {campaign}; {targetAccountIds:[…1–25]} → 201 {campaigns} in request order. A target not reachable → 404, closed → 409, without the campaigns feature → 403; then nothing is written. A sub-account may only copy to itself',
    allow: allow.accountMembers,
    scope: { param: 'accountId', kind: 'account' },
    feature: 'campaigns',
    body: copyCampaignBody,
    status: 201,
    response: responses.copied,
  }),

  // Credits. The debit path has its own small function and no scope read: the debit's own
  // transaction conditions prove the account exists, is active and may spend.
  r({
    method: 'POST',
    path: '/v1/accounts/{accountId}/usage',
    fn: 'usage',
    summary:
      'Charge usage (platform services; or an agency user assisting the account). 201 {entry}; 402 insufficient_credits or credit_limit_reached; 409 account_closed',
    allow: ['platform', 'assist'],
    body: usageBody,
    idempotent: true,
    status: 201,
    response: responses.usageRecorded,
  }),
  r({
    method: 'POST',
    path: '/v1/admin/agencies/{agencyId}/credits',
    fn: 'credits',
    summary: "Platform top-up of an agency's pool. 201 {entry, balance}",
    allow: allow.platform,
    scope: { param: 'agencyId', kind: 'account' },
    body: topUpBody,
    idempotent: true,
    status: 201,
    response: responses.moved,
  }),
  r({
    method: 'POST',
    path: '/v1/sub-accounts/{subAccountId}/credits/grants',
    fn: 'credits',
    summary: "Grant credits to a reselling sub-account's wallet. 201 {entry, balance}; manual mode → 409 wrong_credit_mode",
    allow: allow.agency,
    scope: { param: 'subAccountId', kind: 'subAccount' },
    body: grantBody,
    idempotent: true,
    status: 201,
    response: responses.moved,
  }),
  r({
    method: 'GET',
    path: '/v1/credits/balance',
    fn: 'credits',
    summary: "The agency pool's balance (agency only)",
    allow: allow.agency,
    status: 200,
    response: responses.poolBalance,
  }),
  r({
    method: 'GET',
    path: '/v1/credits/transactions',
    fn: 'credits',
    summary: 'Ledger entries, newest first, filterable; Accept: text/csv exports CSV (usage_export feature)',
    allow: allow.agency,
    query: transactionsQuery,
    status: 200,
    response: responses.transactions,
  }),
  r({
    method: 'GET',
    path: '/v1/credits/usage',
    fn: 'credits',
    summary: 'Agency usage: total, per sub-account, daily series',
    allow: allow.agency,
    query: usageQuery,
    status: 200,
    response: responses.agencyUsage,
  }),
  r({
    method: 'GET',
    path: '/v1/accounts/{accountId}/usage',
    fn: 'credits',
    summary: "An account's own usage: total, by type, daily series (never a balance)",
    allow: allow.accountMembers,
    scope: { param: 'accountId', kind: 'account' },
    query: usageQuery,
    status: 200,
    response: responses.accountUsage,
  }),
  r({
    method: 'GET',
    path: '/v1/accounts/{accountId}/wallet',
    fn: 'credits',
    summary: "A reselling sub-account's wallet; manual mode → 404",
    allow: allow.accountMembers,
    scope: { param: 'accountId', kind: 'account' },
    status: 200,
    response: responses.wallet,
  }),
] as const satisfies readonly RouteDef[];

export type Route = (typeof routes)[number];
export type RouteKey = `${Route['method']} ${Route['path']}`;

export const routeKey = (route: Pick<RouteDef, 'method' | 'path'>) => `${route.method} ${route.path}` as RouteKey;

const byKey = new Map<string, RouteDef>(routes.map((route) => [routeKey(route), route]));
export function findRoute(key: string): RouteDef | undefined {
  return byKey.get(key);
}

/** Path template → regular expression with named groups, for the local gateway and the fallback. */
export function pathPattern(path: string): RegExp {
  const source = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{(\w+)\\?\}/g, '(?<$1>[^/]+)');
  return new RegExp(`^${source}$`);
}

export interface RouteMatch {
  route?: RouteDef;
  params: Record<string, string>;
  /** Methods that exist for this path when the method did not match (→ 405). */
  allowedMethods: HttpMethod[];
}

const compiled = routes.map((route) => ({ route: route as RouteDef, pattern: pathPattern(route.path) }));
export function matchRoute(method: string, path: string): RouteMatch {
  const allowedMethods: HttpMethod[] = [];
  for (const { route, pattern } of compiled) {
    const m = pattern.exec(path);
    if (!m) continue;
    if (route.method === method) {
      const params = decodeParams(m.groups ?? {});
      // Malformed percent-encoding (`%E0%A4%A`) names no resource: a 404, not a URIError (500).
      if (!params) return { params: {}, allowedMethods: [] };
      return { route, params, allowedMethods: [] };
    }
    allowedMethods.push(route.method);
  }
  return { params: {}, allowedMethods };
}

function decodeParams(groups: Record<string, string>): Record<string, string> | undefined {
  try {
    return Object.fromEntries(Object.entries(groups).map(([k, v]) => [k, decodeURIComponent(v)]));
  } catch {
    return undefined;
  }
}
