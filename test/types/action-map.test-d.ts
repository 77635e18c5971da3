/**
 * Type-level tests, run by `tsc` (this file is part of the project, never executed): a
 * function's action map must cover exactly its routes, and each action gets its context typed
 * from its route. Every `@ts-expect-error` below must stay an error — if the compiler stopped
 * catching the mistake, the directive itself would fail the typecheck.
 */
import { httpHandler } from '#http/handler';
import { json, noContent } from '#http/response';
import { campaignRoutes } from '#http/routes/campaigns';
import { identityRoutes } from '#http/routes/identity';
import { usageRoutes } from '#http/routes/usage';

const ok = async () => noContent();

// A missing action does not compile.
// @ts-expect-error — 'POST /v1/accounts/{accountId}/usage' is missing
httpHandler(usageRoutes, {});

// An extra action (a route of another function, or a typo) does not compile.
httpHandler(usageRoutes, {
  'POST /v1/accounts/{accountId}/usage': ok,
  'POST /v1/usage/batch': ok,
  // @ts-expect-error — not a route of this function
  'GET /v1/me': ok,
});

httpHandler(usageRoutes, {
  'POST /v1/accounts/{accountId}/usage': async ({ principal, params, idempotencyKey, account }) => {
    // The principal is narrowed to the route's `allow` (the platform only).
    const kind: 'platform' = principal.kind;
    // Path parameters come typed from the path…
    const id: string = params.accountId;
    // @ts-expect-error — …and only those of the path.
    params.campaignId;
    // An idempotent route gets its key as a string, not string | undefined.
    const key: string = idempotencyKey;
    // An unscoped route has no account in scope.
    const none: undefined = account;
    return json(201, { kind, id, key, none });
  },
  'POST /v1/usage/batch': ok,
});

httpHandler(campaignRoutes, {
  'POST /v1/accounts/{accountId}/campaigns': async ({ account, body }) => {
    // A scoped route gets its account as present.
    const name: string = account.name;
    return json(201, { name, campaign: body.name });
  },
  'GET /v1/accounts/{accountId}/campaigns': ok,
  'GET /v1/accounts/{accountId}/campaigns/{campaignId}': async ({ params }) => json(200, params.campaignId),
  'PATCH /v1/accounts/{accountId}/campaigns/{campaignId}': ok,
  'DELETE /v1/accounts/{accountId}/campaigns/{campaignId}': async ({ idempotencyKey }) => {
    // @ts-expect-error — a route that is not idempotent has no key.
    const key: string = idempotencyKey;
    return json(200, key);
  },
  'POST /v1/accounts/{accountId}/campaigns/{campaignId}/copy': ok,
});

httpHandler(identityRoutes, {
  'POST /v1/auth/password': ok,
  'GET /v1/me': ok,
  'POST /v1/api-keys': async ({ principal }) => {
    // Agency users only: the user id is there without a runtime check.
    const userId: string = principal.userId;
    return json(201, userId);
  },
  'GET /v1/api-keys': ok,
  'DELETE /v1/api-keys/{apiKeyId}': ok,
  'GET /v1/audit-log': ok,
  'POST /v1/sub-accounts/{subAccountId}/assist': ok,
  'POST /v1/auth/logout': ok,
  'POST /v1/auth/verify-email/resend': ok,
  'POST /v1/assist/exit': async ({ principal }) => {
    // @ts-expect-error — an assist principal has no userId (it has actorUserId).
    principal.userId;
    return noContent();
  },
});
