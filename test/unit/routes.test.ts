/**
 * Route matching (used by the local gateway and the `$default` fallback) and the route table's
 * own consistency: templates match exactly one path segment per parameter, dots are literal,
 * parameters are decoded, a known path with another method yields the methods for a 405, and
 * every route's scope, feature and idempotency settings make sense for the pipeline.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { keyPrefixes } from '#db/schema';
import { type HttpFunction, httpFunctionManifests, tableKeyPrefixes } from '#http/functions';
import type { HttpFunctionManifest } from '#http/route-def';
import { findRoute, httpFunctions, matchRoute, pathPattern, type RouteDef, routeKey, routes } from '#http/routes';

const table = routes as readonly RouteDef[];
const paramsOf = (path: string) => [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);

describe('pathPattern', () => {
  it('matches one segment per parameter and nothing more', () => {
    const p = pathPattern('/v1/sub-accounts/{subAccountId}');
    expect(p.exec('/v1/sub-accounts/sub_1')?.groups).toEqual({ subAccountId: 'sub_1' });
    for (const miss of [
      '/v1/sub-accounts',
      '/v1/sub-accounts/',
      '/v1/sub-accounts/sub_1/',
      '/v1/sub-accounts/sub_1/assist',
      '/x/v1/sub-accounts/sub_1',
    ]) {
      expect(p.test(miss), miss).toBe(false);
    }
  });

  it('captures several parameters and treats regex characters literally', () => {
    expect(pathPattern('/v1/accounts/{accountId}/campaigns/{campaignId}').exec('/v1/accounts/a/campaigns/c')?.groups).toEqual({
      accountId: 'a',
      campaignId: 'c',
    });
    const doc = pathPattern('/v1/openapi.json');
    expect(doc.test('/v1/openapi.json')).toBe(true);
    expect(doc.test('/v1/openapiXjson')).toBe(false);
  });
});

describe('matchRoute', () => {
  it('finds the route and decodes its parameters', () => {
    const m = matchRoute('GET', '/v1/sub-accounts/sub%20one');
    expect(m.route && routeKey(m.route)).toBe('GET /v1/sub-accounts/{subAccountId}');
    expect(m.params).toEqual({ subAccountId: 'sub one' });
    expect(m.allowedMethods).toEqual([]);
  });

  it('reports the methods of a known path when the method does not match (→ 405)', () => {
    const m = matchRoute('PUT', '/v1/sub-accounts');
    expect(m.route).toBeUndefined();
    expect([...m.allowedMethods].sort()).toEqual(['GET', 'POST']);
    expect([...matchRoute('POST', '/v1/sub-accounts/sub_1').allowedMethods].sort()).toEqual(['DELETE', 'GET', 'PATCH']);
  });

  it('treats malformed percent-encoding as no route (→ 404), never throwing', () => {
    for (const method of ['GET', 'PUT']) {
      expect(matchRoute(method, '/v1/sub-accounts/%E0%A4%A').route).toBeUndefined();
    }
    expect(matchRoute('GET', '/v1/sub-accounts/%E0%A4%A').allowedMethods).toEqual([]);
  });

  it('reports nothing for an unknown path (→ 404)', () => {
    for (const path of ['/v1/nope', '/v1/health/', '/v2/health', '/']) {
      expect(matchRoute('GET', path)).toEqual({ params: {}, allowedMethods: [] });
    }
  });

  it('finds every route of the table by its own path', () => {
    for (const route of table) {
      const concrete = route.path.replace(/\{(\w+)\}/g, 'x_1');
      expect(matchRoute(route.method, concrete).route).toBe(route);
      expect(findRoute(routeKey(route))).toBe(route);
    }
  });
});

describe('the route table', () => {
  it('has unique method + path pairs under /v1', () => {
    const keys = table.map(routeKey);
    expect(new Set(keys).size).toBe(keys.length);
    for (const r of table) expect(r.path).toMatch(/^\/v1(\/[a-z0-9.-]+|\/\{\w+\})+$/);
  });

  it('scopes only authenticated routes, on a parameter of their path', () => {
    for (const r of table.filter((r) => r.scope)) {
      expect(paramsOf(r.path), routeKey(r)).toContain(r.scope!.param);
      expect(r.allow.length, routeKey(r)).toBeGreaterThan(0);
    }
    for (const r of table.filter((r) => r.feature)) expect(r.allow.length, routeKey(r)).toBeGreaterThan(0);
  });

  it('marks only POSTs with a body idempotent, and serves each route from a real function', () => {
    for (const r of table.filter((r) => r.idempotent)) {
      expect(r.method, routeKey(r)).toBe('POST');
      expect(r.body, routeKey(r)).toBeDefined();
    }
    for (const r of table) {
      expect(httpFunctions).toContain(r.fn);
      expect(r.fn).not.toBe('fallback');
      expect(r.method === 'GET' || r.method === 'DELETE' ? r.body : undefined, `${routeKey(r)} has a body`).toBeUndefined();
    }
  });
});

describe('the HTTP functions, one manifest each', () => {
  it('has a manifest for each handler module and a handler module for each manifest', () => {
    const handlers = readdirSync('functions/http')
      .filter((f) => f.endsWith('.ts'))
      .map((f) => f.replace(/\.ts$/, ''));
    expect([...httpFunctionManifests.map((m) => m.name)].sort()).toEqual(handlers.sort());
  });

  it("makes the route table of exactly the manifests' routes, each named by its manifest once", () => {
    const fromManifests = httpFunctionManifests.flatMap((m) => m.routes.map((r) => `${m.name} ${routeKey(r)}`));
    expect(fromManifests.sort()).toEqual(table.map((r) => `${r.fn} ${routeKey(r)}`).sort());
    expect(new Set(table.map(routeKey)).size).toBe(table.length);
  });

  it('gives table access exactly where the manifest needs the table, and keys nowhere else', () => {
    for (const m of httpFunctionManifests as readonly HttpFunctionManifest[]) {
      expect([m.name, m.needs.includes('table')]).toEqual([m.name, m.tableKeys.length > 0]);
      expect(tableKeyPrefixes[m.name as HttpFunction]).toBe(m.tableKeys);
    }
  });

  it("grants the table only by the schema's key prefixes, none of which grants another's partitions", () => {
    const declared: readonly string[] = Object.values(keyPrefixes);
    const granted = new Set(Object.values(tableKeyPrefixes).flat());
    expect([...granted].filter((p) => !declared.includes(p))).toEqual([]);
    const overlapping = declared.flatMap((a) => declared.filter((b) => a !== b && b.startsWith(a)).map((b) => `${a} ⊂ ${b}`));
    expect(overlapping).toEqual([]);
  });
});
