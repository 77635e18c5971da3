import { auditing, authenticating } from '#db/access';
import { keyPrefixes } from '#db/schema';
import { changePasswordBody, createApiKeyBody, listQuery } from '#domain/accounts/schemas';
import { auditLogQuery } from '#domain/audit/log';
import { allow } from '#domain/auth/principal';
import * as res from '../responses';
import { type HttpFunctionManifest, type RouteDef, standardNeeds } from '../route-def';

/** Who the caller is, its API keys, and assist mode. */
export const identityRoutes = [
  {
    method: 'POST',
    path: '/v1/auth/password',
    fn: 'identity',
    summary: 'Change your password: answers a new session; every earlier session of the user ends (API keys do not)',
    allow: allow.loginUsers,
    body: changePasswordBody,
    status: 200,
    response: res.NewSession,
  },
  {
    method: 'POST',
    path: '/v1/auth/logout',
    fn: 'identity',
    summary: 'Log out: this session or assist token is refused from now on',
    allow: allow.users,
    status: 204,
  },
  {
    method: 'POST',
    path: '/v1/auth/verify-email/resend',
    fn: 'identity',
    summary: "Send the agency's email verification link again (throttled; nothing is sent once verified)",
    allow: allow.agencyUser,
    status: 202,
    response: res.Accepted,
    refusals: ['too_many_attempts'],
  },
  {
    method: 'GET',
    path: '/v1/me',
    fn: 'identity',
    summary:
      'The caller and the accounts it can switch to, paged like lists: the agency first (on the first page, beside up to limit sub-accounts), then its active sub-accounts',
    allow: allow.users,
    query: listQuery,
    status: 200,
    response: res.MeResponse,
  },
  {
    method: 'POST',
    path: '/v1/api-keys',
    fn: 'identity',
    summary: 'Create an agency API key (shown once); needs the api_access feature (pro and agency plans)',
    allow: allow.agencyUser,
    feature: 'api_access',
    body: createApiKeyBody,
    status: 201,
    response: res.ApiKeyCreated,
  },
  {
    method: 'GET',
    path: '/v1/api-keys',
    fn: 'identity',
    summary: "List the agency's API keys",
    allow: allow.agencyUser,
    query: listQuery,
    status: 200,
    response: res.ApiKeyList,
  },
  {
    method: 'DELETE',
    path: '/v1/api-keys/{apiKeyId}',
    fn: 'identity',
    summary: 'Revoke an API key',
    allow: allow.agencyUser,
    status: 204,
  },
  {
    method: 'GET',
    path: '/v1/audit-log',
    fn: 'identity',
    summary:
      "The agency's audit log, newest first: every write through the API that is not a ledger entry (who, what, before and after, never a secret); kept 400 days; Accept: text/csv exports a page as CSV",
    allow: allow.agencyUser,
    query: auditLogQuery,
    status: 200,
    response: res.AuditLog,
    csv: true,
  },
  {
    method: 'POST',
    path: '/v1/sub-accounts/{subAccountId}/assist',
    fn: 'identity',
    summary: 'Enter assist mode: act as the sub-account',
    allow: allow.agencyUser,
    scope: { param: 'subAccountId', kind: 'subAccount' },
    status: 201,
    response: res.AssistSession,
    refusals: ['account_closed'],
  },
  {
    method: 'POST',
    path: '/v1/assist/exit',
    fn: 'identity',
    summary: 'Return to agency: revoke this assist token',
    allow: allow.assist,
    status: 204,
  },
] as const satisfies readonly RouteDef[];

/** The identity function (functions/http/identity.ts). */
export const identityFunction = {
  name: 'identity',
  description: 'The caller, its password and API keys, assist mode, and the audit log',
  // The verification resend seals its token.
  needs: [...standardNeeds, 'sealEncrypt'],
  // Passwords (users), API keys and their id items, logouts and assist exits, the verification resend; the audit log.
  tableKeys: [
    ...authenticating,
    keyPrefixes.apiKeyId,
    keyPrefixes.oneTimeToken,
    keyPrefixes.outbox,
    keyPrefixes.throttle,
    auditing,
  ],
  routes: identityRoutes,
} as const satisfies HttpFunctionManifest<'identity'>;
