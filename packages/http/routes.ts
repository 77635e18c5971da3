/**
 * The route table, written once: the union of each function's routes (`routes/*.ts`). CDK
 * creates the API Gateway routes and the Lambda functions from it; the local gateway matches
 * requests with it; the OpenAPI document is generated from it; the tests are driven by it.
 * A function's handler imports only its own group, so its bundle carries only its schemas.
 */
import { type ErrorCode, errorCodes } from '#core/errors';
import { principalKinds } from '#domain/auth/principal';
import { httpFunctionManifests } from './functions';
import { type CheckedRoutes, type HttpMethod, type RouteDef, type RouteKeyOf, routeKey } from './route-def';

export { type HttpFunction, httpFunctions, manifestOf } from './functions';
export {
  type HttpMethod,
  type RouteDef,
  routeKey,
  type ThrottleClass,
  throttleClassOf,
} from './route-def';

type Manifest = (typeof httpFunctionManifests)[number];
const all: readonly Manifest['routes'][number][] = httpFunctionManifests.flatMap(
  (m): readonly Manifest['routes'][number][] => m.routes,
);
/** Every route; a path parameter without a known id shape (route-def `paramIdKinds`) does not compile. */
export const routes: CheckedRoutes<typeof all> = all;

export type Route = (typeof routes)[number];
export type RouteKey = RouteKeyOf<Route>;

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
  route?: Route;
  params: Record<string, string>;
  /** Methods that exist for this path when the method did not match (→ 405). */
  allowedMethods: HttpMethod[];
}

const compiled = routes.map((route) => ({ route, pattern: pathPattern(route.path) }));
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

/**
 * Every error code a route can answer: its own `refusals`, plus what the pipeline answers for
 * any route with its properties. Published per route in the OpenAPI document; the tests fail
 * a response whose code is not listed here.
 */
export function refusalsOf(route: RouteDef): ErrorCode[] {
  const codes = new Set<ErrorCode>(route.refusals ?? []);
  if (route.body || route.query) codes.add('invalid_request');
  if (route.body) codes.add('payload_too_large').add('unsupported_media_type');
  if (route.idempotent) codes.add('idempotency_key_missing').add('idempotency_key_reused');
  if (route.allow.length) codes.add('unauthenticated');
  if (route.allow.length && principalKinds.some((kind) => !route.allow.includes(kind))) codes.add('forbidden');
  if (route.feature) codes.add('feature_not_enabled');
  if (route.path.includes('{')) codes.add('not_found');
  // Routes that touch no dependency (liveness, the document) can only fail by a bug.
  const standalone = route.path === '/v1/health' || route.fn === 'docs';
  if (!standalone) codes.add('try_again').add('service_unavailable').add('throttled');
  if (route.path !== '/v1/health') codes.add('internal_error');
  return [...codes].sort((a, b) => errorCodes[a].status - errorCodes[b].status || a.localeCompare(b));
}
