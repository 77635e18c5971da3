import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { withDeadline } from '#core/deadline';
import { causeOf, dependencyFailure } from '#core/dependency-errors';
import { AppError } from '#core/errors';
import { logger } from '#core/logger';
import { countBy, publishMetrics } from '#core/metrics';
import type * as z from '#core/zod';
import type { AccountItem, AgencyItem, SubAccountItem } from '#db/items/account';
import { auditActorOf, withAuditSource } from '#domain/audit/record';
import type { PrincipalKind, PrincipalOf } from '#domain/auth/principal';
import { authenticate } from './authenticate';
import { authorize, scopeReads } from './authorize';
import { type HttpResult, problem } from './response';
import type { PathParams, RouteDef, RouteKeyOf } from './route-def';
import { parseJsonBody, parseWith } from './validate';

type Parsed<R, F extends 'body' | 'query'> = R extends { [K in F]: infer S extends z.ZodMiniType } ? z.infer<S> : undefined;
/** Every principal but the platform has an agency; routes open to anyone have no caller at all. */
type AgencyFor<K extends PrincipalKind> = [K] extends [never]
  ? undefined
  : 'platform' extends K
    ? AgencyItem | undefined
    : AgencyItem;
/** A sub-account scope reaches sub-accounts only (`canReach`); an account scope, either kind. */
type ScopedAccount<R> = R extends { scope: { kind: 'subAccount' } }
  ? SubAccountItem
  : R extends { scope: object }
    ? AccountItem
    : undefined;

/**
 * Everything an action needs, already authenticated, authorized and validated, typed from its
 * route: the principal narrowed to the kinds the route allows, the account present when the
 * route has a scope, the idempotency key present when it is idempotent, the path parameters
 * named by its path.
 */
export interface RequestContext<R extends RouteDef> {
  route: R;
  params: PathParams<R['path']>;
  body: Parsed<R, 'body'>;
  query: Parsed<R, 'query'>;
  principal: R['allow'] extends readonly [] ? undefined : PrincipalOf<R['allow'][number]>;
  /** The account named by the route's scope parameter, reachable by the caller. */
  account: ScopedAccount<R>;
  /** The caller's own account, when authentication had to read it (sub-account users, assist). */
  ownAccount: AccountItem | undefined;
  /** The caller's agency as authentication read it (active, with its plan and features). */
  agency: AgencyFor<R['allow'][number]>;
  idempotencyKey: R extends { idempotent: true } ? string : undefined;
  headers: Record<string, string | undefined>;
  /** The body's exact bytes, for routes that verify a signature over them (they declare no `body`). */
  rawBody: Buffer | undefined;
  requestId: string;
}

export type Action<R extends RouteDef> = (ctx: RequestContext<R>) => Promise<HttpResult>;
/** Exactly one action per route of the function: a missing or an extra one does not compile. */
export type ActionsFor<Rs extends readonly RouteDef[]> = { [R in Rs[number] as RouteKeyOf<R>]: Action<R> };

export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;
/** Answer 503 this long before Lambda's hard timeout, and stop retry loops a little earlier still. */
const ANSWER_EARLY_MS = 500;
const DEADLINE_MARGIN_MS = 750;

async function buildContext(event: APIGatewayProxyEventV2, route: RouteDef): Promise<RequestContext<RouteDef>> {
  const headers = lowerCaseKeys(event.headers ?? {});
  const params = (event.pathParameters ?? {}) as Record<string, string>;

  // One BatchGet for what authentication needs and what the route's scope names.
  const authn = route.allow.length
    ? await authenticate(headers.authorization, (principal) => scopeReads(route, principal, params))
    : undefined;
  const auth = authn?.auth;
  const account = await authorize(route, auth, params, authn?.found);

  let body: unknown;
  if (route.body) {
    const max = route.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    if (Buffer.byteLength(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8') > max) {
      throw new AppError('payload_too_large', `body: larger than ${max / 1024} KiB`);
    }
    const type = headers['content-type'];
    if (type && !/^application\/(.+\+)?json\b/i.test(type))
      throw new AppError('unsupported_media_type', 'body: send application/json');
    body = parseWith(route.body, parseJsonBody(event.body, event.isBase64Encoded), 'body');
  }
  const query = route.query ? parseWith(route.query, event.queryStringParameters ?? {}, 'query') : undefined;

  let idempotencyKey: string | undefined;
  if (route.idempotent) {
    idempotencyKey = headers['idempotency-key'];
    if (!idempotencyKey || idempotencyKey.length > 255) {
      throw new AppError('idempotency_key_missing', 'Idempotency-Key: a header of 1 to 255 characters is required', [
        { field: 'Idempotency-Key', message: 'required, 1 to 255 characters' },
      ]);
    }
  }

  return {
    route,
    params,
    body,
    query,
    principal: auth?.principal,
    account,
    ownAccount: auth?.ownAccount,
    agency: auth?.agency,
    idempotencyKey,
    headers,
    rawBody:
      route.body || event.body === undefined ? undefined : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8'),
    requestId: event.requestContext?.requestId ?? '',
  } as RequestContext<RouteDef>;
}

function lowerCaseKeys(h: Record<string, string | undefined>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

/** Every log line of the request carries the API request id (the correlation id) and the route. */
const requestLogContext = (): middy.MiddlewareObj<APIGatewayProxyEventV2, HttpResult> => ({
  before: async ({ event }) => {
    logger.setCorrelationId(event.requestContext?.requestId);
    logger.appendKeys({ route: event.routeKey });
  },
});

/** Maps any thrown error to problem JSON; unexpected ones are logged once and answered as a bare 500. */
const problemErrors = (): middy.MiddlewareObj<APIGatewayProxyEventV2, HttpResult> => ({
  onError: async (request) => {
    const err = request.error;
    if (err instanceof AppError) {
      countBy('Refusals', 'code', err.code);
      if (err.status >= 500) logger.warn('request not served', { code: err.code, detail: err.detail });
      request.response = problem(err);
      return;
    }
    const unavailable = dependencyFailure(err);
    if (unavailable) {
      logger.warn('dependency failed', { code: unavailable.code, cause: causeOf(err) });
      countBy('Refusals', 'code', unavailable.code);
      request.response = problem(unavailable);
      return;
    }
    logger.error('unhandled error', { error: err as Error });
    countBy('Refusals', 'code', 'internal_error');
    request.response = problem(new AppError('internal_error'));
  },
});

/**
 * The Lambda handler for a group of routes. `routeKey` (e.g. `GET /v1/sub-accounts/{subAccountId}`)
 * is set by API Gateway, and identically by the local gateway.
 */
export function httpHandler<const Rs extends readonly RouteDef[]>(routes: Rs, actions: NoInfer<ActionsFor<Rs>>) {
  const byKey = new Map<string, { route: RouteDef; action: Action<RouteDef> }>();
  for (const route of routes) {
    const key = `${route.method} ${route.path}`;
    byKey.set(key, { route, action: (actions as unknown as Record<string, Action<RouteDef>>)[key] as Action<RouteDef> });
  }
  return (
    middy<APIGatewayProxyEventV2, HttpResult, Error, Context>({
      timeoutEarlyInMillis: ANSWER_EARLY_MS,
      timeoutEarlyResponse: () => {
        throw new AppError('try_again', 'The request ran out of time; retry it (with the same Idempotency-Key)', undefined, {
          retryAfterSeconds: 1,
        });
      },
    })
      // The event holds the Authorization header and the body (passwords, tokens): never logged,
      // whatever POWERTOOLS_LOGGER_LOG_EVENT says (the option overrides the environment).
      .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
      .use(publishMetrics())
      .use(requestLogContext())
      .use(problemErrors())
      .handler(async (event, context) => {
        const found = byKey.get(event.routeKey);
        if (!found) throw new AppError('not_found', `No route ${event.routeKey}`);
        const deadline = Date.now() + (context.getRemainingTimeInMillis?.() ?? 30_000) - DEADLINE_MARGIN_MS;
        return withDeadline(deadline, async () => {
          const ctx = await buildContext(event, found.route);
          // Who and from where, for the audit record every write adds to its own transaction.
          const source = {
            actor: auditActorOf(ctx.principal),
            requestId: ctx.requestId,
            sourceIp: event.requestContext?.http?.sourceIp ?? '',
          };
          return withAuditSource(source, () => found.action(ctx));
        });
      })
  );
}
