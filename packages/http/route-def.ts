import type { ErrorCode } from '#core/errors';
import type { IdKind } from '#core/ids';
import type * as z from '#core/zod';
import type { PrincipalKind } from '#domain/auth/principal';
import type { Feature } from '#domain/features';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/**
 * What an HTTP function is given beyond its code; CDK grants each (infra/stacks/stateless-stack.ts)
 * and nothing else: the table, the session token key, the platform key (authentication
 * compares against it), sealing and opening secrets with the KMS key, the Stripe API key, the
 * Stripe webhook secrets, the reselling configuration, sending to the webhooks queue.
 */
export type FunctionNeed =
  | 'table'
  | 'tokenSecret'
  | 'platformApiKey'
  | 'sealEncrypt'
  | 'sealDecrypt'
  | 'stripeApi'
  | 'stripeWebhooks'
  | 'resellingConfig'
  | 'webhooksQueue';

/** What an authenticated handler needs: the table, the token key (sessions), the platform key. */
export const standardNeeds = ['table', 'tokenSecret', 'platformApiKey'] as const satisfies readonly FunctionNeed[];

/**
 * One HTTP function, declared once, in its routes file: CDK makes its Lambda function with
 * exactly these needs and table keys (IAM's LeadingKeys), the local runtime runs its handler
 * (`functions/http/<name>.ts`) under the same keys, the route table and the OpenAPI document
 * (its tag) come from its routes. Adding a function: its routes file with this manifest, its
 * handler, and its line in the list (http/functions.ts).
 */
export interface HttpFunctionManifest<Name extends string = string> {
  name: Name;
  /** What it serves (the OpenAPI tag's description). */
  description: string;
  needs: readonly FunctionNeed[];
  /** The table partitions it may touch, by key prefix (db/access.ts has the shared ones); empty: no table. */
  tableKeys: readonly string[];
  routes: readonly (RouteDef & { fn: Name })[];
}

/**
 * One route of the table. CDK creates the API Gateway route and its function from it; the
 * local gateway matches requests with it; the HTTP pipeline reads its auth, scope, feature and
 * schemas from it; the OpenAPI document is generated from it; the compiler types each
 * function's actions from it.
 */
export interface RouteDef {
  method: HttpMethod;
  path: string;
  /** The function that serves it (its manifest's name). */
  fn: string;
  summary: string;
  /** Principal kinds allowed; empty = no authentication. Others get 403, none 401. */
  allow: readonly PrincipalKind[];
  /**
   * Which path parameter names an account the caller must be able to reach (404 otherwise):
   * `account` — the agency itself or one of its sub-accounts (a sub-account: only itself);
   * `subAccount` — only the agency's sub-accounts.
   */
  scope?: { param: string; kind: 'account' | 'subAccount' };
  /** A feature the account in scope (or the caller's own account) must have. */
  feature?: Feature;
  body?: z.ZodMiniType;
  /** The largest body it takes, in bytes (413 beyond). @default 256 KiB */
  maxBodyBytes?: number;
  query?: z.ZodMiniType;
  /** Money-moving calls: an Idempotency-Key header is required. */
  idempotent?: boolean;
  status: number;
  /** The success body's shape (packages/http/responses.ts); absent for 204s. */
  response?: z.ZodMiniType;
  /** Also answers `text/csv` when asked (Accept). */
  csv?: boolean;
  /**
   * The refusals this route's own logic can answer, beyond those every route of its kind can
   * (bad input, authentication, authorization, not found: see `refusalsOf`). Published in the
   * OpenAPI document, and checked by the tests: a route answering a code it does not list fails.
   */
  refusals?: readonly ErrorCode[];
  /**
   * The deployed per-route rate limit's class (infra/config.ts sets each class's limits); see
   * `throttleClassOf` for the default.
   */
  throttle?: ThrottleClass;
}

/**
 * `auth`: tight, for what anyone may call to create or prove an identity (sign-up, login,
 * verification, resets), so guessing and sign-up floods stay slow; `metering`: the platform's
 * usage reports, wide; `default`: everything else.
 */
export type ThrottleClass = 'default' | 'auth' | 'metering';

/** A route's throttle class: its own, else `auth` for every unauthenticated write (new ones included), else `default`. */
export function throttleClassOf(route: Pick<RouteDef, 'throttle' | 'allow' | 'method'>): ThrottleClass {
  return route.throttle ?? (route.allow.length === 0 && route.method !== 'GET' ? 'auth' : 'default');
}

/** What each path parameter names, by its name: an id of these kinds (any other shape is a 404 before any read). */
export const paramIdKinds = {
  accountId: ['agency', 'subAccount'],
  agencyId: ['agency'],
  subAccountId: ['subAccount'],
  campaignId: ['campaign'],
  apiKeyId: ['apiKey'],
  deliveryId: ['webhookDelivery'],
  webhookEndpointId: ['webhookEndpoint'],
} as const satisfies Record<string, readonly IdKind[]>;
export type ParamName = keyof typeof paramIdKinds;

/** `'/v1/accounts/{accountId}/campaigns/{campaignId}'` → `'accountId' | 'campaignId'`. */
export type PathParamNames<P extends string> = P extends `${string}{${infer Name}}${infer Rest}`
  ? Name | PathParamNames<Rest>
  : never;
export type PathParams<P extends string> = { [K in PathParamNames<P>]: string };

export type RouteKeyOf<R extends Pick<RouteDef, 'method' | 'path'>> = `${R['method']} ${R['path']}`;
export const routeKey = <R extends Pick<RouteDef, 'method' | 'path'>>(route: R) =>
  `${route.method} ${route.path}` as RouteKeyOf<R>;

/** A route list whose every path parameter has a known id shape (a type error otherwise). */
export type CheckedRoutes<Rs extends readonly RouteDef[]> = PathParamNames<Rs[number]['path']> extends ParamName ? Rs : never;
