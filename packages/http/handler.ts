import middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type { z } from 'zod';
import { AppError } from '../core/errors';
import { logger } from '../core/logger';
import type { AccountItem } from '../db/accounts';
import type { Principal } from '../domain/auth/principal';
import { authenticate } from './authenticate';
import { authorize } from './authorize';
import { type HttpResult, problem } from './response';
import { findRoute, type Route, type RouteDef, type RouteKey } from './routes';
import { parseJsonBody, parseWith } from './validate';

type RouteOf<K extends RouteKey> = K extends `${infer M} ${infer P}` ? Extract<Route, { method: M; path: P }> : never;
type Inferred<R, F extends string> = R extends { [key in F]: infer S extends z.ZodType } ? z.infer<S> : undefined;

/** Everything an action needs, already authenticated, authorized and validated. */
export interface RequestContext<K extends RouteKey = RouteKey> {
  route: RouteDef;
  params: Record<string, string>;
  body: Inferred<RouteOf<K>, 'body'>;
  query: Inferred<RouteOf<K>, 'query'>;
  /** Set on every authenticated route (public routes do not read it). */
  principal: Principal;
  /** The account named by the route's scope parameter (or the caller's own, when read). */
  account?: AccountItem;
  headers: Record<string, string | undefined>;
  idempotencyKey?: string;
  requestId: string;
}

export type Action<K extends RouteKey = RouteKey> = (ctx: RequestContext<K>) => Promise<HttpResult>;
export type Actions = { [K in RouteKey]?: Action<K> };

const MAX_BODY_BYTES = 256 * 1024;

async function buildContext(event: APIGatewayProxyEventV2, route: RouteDef): Promise<RequestContext> {
  const headers = lowerCaseKeys(event.headers ?? {});
  const params = (event.pathParameters ?? {}) as Record<string, string>;
  const requestId = event.requestContext?.requestId ?? '';

  const auth = route.allow.length ? await authenticate(headers.authorization) : undefined;
  const account = await authorize(route, auth?.principal, params, auth?.ownAccount);

  let body: unknown;
  if (route.body) {
    if (Buffer.byteLength(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8') > MAX_BODY_BYTES)
      throw new AppError('payload_too_large', 'body: larger than 256 KiB');
    const type = headers['content-type'];
    if (type && !/^application\/(.+\+)?json\b/i.test(type)) {
      throw new AppError('unsupported_media_type', 'body: send application/json');
    }
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
    principal: auth?.principal as Principal,
    account,
    headers,
    idempotencyKey,
    requestId,
  } as RequestContext;
}

function lowerCaseKeys(h: Record<string, string | undefined>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

/** Maps any thrown error to problem JSON; unexpected ones are logged and answered as a bare 500. */
const problemErrors = (): middy.MiddlewareObj<APIGatewayProxyEventV2, HttpResult> => ({
  onError: async (request) => {
    const err = request.error;
    if (err instanceof AppError) {
      request.response = problem(err);
      return;
    }
    logger.error('unhandled error', { routeKey: request.event.routeKey, error: err as Error });
    request.response = problem(new AppError('internal_error'));
  },
});

/**
 * The Lambda handler for a group of routes. `routeKey` (e.g. `GET /v1/sub-accounts/{subAccountId}`)
 * is set by API Gateway, and identically by the local gateway.
 */
export function httpHandler(actions: Actions) {
  return middy<APIGatewayProxyEventV2, HttpResult, Error, Context>()
    .use(problemErrors())
    .handler(async (event) => {
      const route = findRoute(event.routeKey);
      const action = route && (actions[event.routeKey as RouteKey] as Action | undefined);
      if (!route || !action) throw new AppError('not_found', `No route ${event.routeKey}`);
      return action(await buildContext(event, route));
    });
}
