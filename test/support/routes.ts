import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type IdKind, idPrefixes, newId } from '#core/ids';
import { type RouteDef, routes } from '#http/routes';

/**
 * Helpers for tests that are driven by the route table: every route, including the ones added
 * after these tests were written, is covered from its `allow`, `scope`, path and zod schemas.
 */
export const routeTable = routes as readonly RouteDef[];
export const keyOf = (r: Pick<RouteDef, 'method' | 'path'>) => `${r.method} ${r.path}`;

/** `{name}` placeholders of a path template, in order. */
export function pathParams(path: string): string[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
}

export function fillPath(path: string, values: Record<string, string>): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for path parameter ${name} of ${path}`);
    return encodeURIComponent(value);
  });
}

/**
 * What a path parameter names: an account the route's scope checks, or some other object the
 * use case looks up (campaignId, apiKeyId…). Unscoped `accountId`/`agencyId`/`subAccountId`
 * are still accounts.
 */
export type ParamRole = 'account' | 'subAccount' | 'object';
export function paramRole(route: RouteDef, name: string): ParamRole {
  if (route.scope?.param === name) return route.scope.kind;
  if (name === 'accountId' || name === 'agencyId') return 'account';
  if (name === 'subAccountId') return 'subAccount';
  return 'object';
}

/** `campaignId` → `campaign`, when ids of that kind exist (so a missing one can look real). */
export function idKindOf(param: string): IdKind | undefined {
  const base = param.replace(/Id$/, '');
  return base in idPrefixes ? (base as IdKind) : undefined;
}

/** A syntactically valid id that names nothing. */
export function missingId(param: string): string {
  const kind = idKindOf(param);
  return kind ? newId(kind) : `${param.replace(/Id$/, '').slice(0, 3) || 'obj'}_${randomBytes(13).toString('hex')}`;
}

// ---------------------------------------------------------------------------------------------
// JSON Schema view of the zod schemas, and sample values generated from it.

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
  default?: unknown;
}

export function jsonSchemaOf(schema: z.core.$ZodType): JsonSchema {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
}

/** The JSON types a schema admits (`undefined` = anything). */
export function typesOf(s: JsonSchema): string[] | undefined {
  if (s.type) return Array.isArray(s.type) ? s.type : [s.type];
  const union = s.anyOf ?? s.oneOf;
  if (union) {
    const all = union.map(typesOf);
    return all.some((t) => t === undefined) ? undefined : [...new Set(all.flat() as string[])];
  }
  if (s.enum) return [...new Set(s.enum.map((v) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v)))];
  if (s.const !== undefined) return [typeof s.const];
  return undefined;
}

export interface SampleOptions {
  /** Put into every generated string where it fits, so a test can find anything written. */
  marker: string;
  /** Also fill optional properties (default: only required ones, or the first one if none is required). */
  includeOptional?: boolean;
}

/** A value the schema accepts, as far as JSON Schema can tell (refinements aside). */
export function sampleValue(s: JsonSchema, opts: SampleOptions, name = 'value'): unknown {
  if (s.const !== undefined) return s.const;
  if (s.enum?.length) return s.enum[0];
  const union = s.anyOf ?? s.oneOf;
  if (union?.length) return sampleValue(union.find((u) => typesOf(u)?.[0] !== 'null') ?? union[0]!, opts, name);
  if (s.allOf?.length) return sampleValue(Object.assign({}, ...s.allOf) as JsonSchema, opts, name);
  const type = typesOf(s)?.find((t) => t !== 'null') ?? 'string';
  switch (type) {
    case 'object': {
      const props = s.properties ?? {};
      const required = s.required ?? [];
      let names = opts.includeOptional ? Object.keys(props) : required;
      if (!names.length && Object.keys(props).length) names = [Object.keys(props)[0]!];
      return Object.fromEntries(names.map((n) => [n, sampleValue(props[n] ?? {}, opts, n)]));
    }
    case 'array':
      return Array.from({ length: Math.max(s.minItems ?? 0, 1) }, (_, i) => sampleValue(s.items ?? {}, opts, `${name}${i}`));
    case 'integer':
    case 'number': {
      const min = s.minimum ?? (s.exclusiveMinimum !== undefined ? Math.floor(s.exclusiveMinimum) + 1 : undefined);
      return Math.max(min ?? 1, 1);
    }
    case 'boolean':
      return true;
    default:
      return sampleString(s, opts.marker, name);
  }
}

function sampleString(s: JsonSchema, marker: string, name: string): string {
  switch (s.format) {
    case 'email':
      return `${marker}-${randomBytes(3).toString('hex')}@example.test`;
    case 'uri':
    case 'url':
      return `https://example.test/${marker}`;
    case 'date-time':
      return new Date().toISOString();
    case 'date':
      return new Date().toISOString().slice(0, 10);
    case 'uuid':
      return randomUUID();
  }
  const min = s.minLength ?? 0;
  const max = s.maxLength ?? Infinity;
  let value = `${marker}-${name}`;
  if (value.length > max) value = marker.length <= max ? marker : 'x'.repeat(Math.max(min, 1));
  return value.padEnd(min, 'x');
}

/**
 * Per-route parts of a valid body that the schema alone cannot give (cross-field rules,
 * references to real objects); the rest is generated from the zod schema. The one place for
 * them: bad input, isolation and the fuzz all start from these.
 */
export const fixtureBodies: Record<string, (ctx: { home: string; agencyId: string }) => Record<string, unknown>> = {
  'POST /v1/accounts/{accountId}/campaigns/{campaignId}/copy': ({ home }) => ({ targetAccountId: home }),
  // A price is a decimal string and a currency a code: patterns the generator does not fill.
  'PUT /v1/reselling/pricing': () => ({
    currency: 'usd',
    perCreditPrice: '15',
    packages: [{ name: 'Pack', credits: 100, price: 1500 }],
  }),
  // A loopback target (the test stack allows http://127.0.0.1 as npm start does): port 9 has no
  // listener, so a delivery to it fails fast and nothing leaves the machine.
  'PUT /v1/reselling/auto-recharge-webhook': () => ({ url: 'http://127.0.0.1:9/recharge' }),
  // Event webhooks: the same loopback target, and an event type (the generator picks none).
  'POST /v1/webhook-endpoints': () => ({ url: 'http://127.0.0.1:9/events', events: ['sub_account.created'] }),
  'PATCH /v1/webhook-endpoints/{webhookEndpointId}': () => ({ url: 'http://127.0.0.1:9/events-moved' }),
  // An event charged to the caller's own account, under a key of its own.
  'POST /v1/usage/batch': ({ home }) => ({
    events: [{ accountId: home, type: 'ai_response', quantity: 1, idempotencyKey: randomUUID() }],
  }),
};

/** A body for `route` built from its schema, with `overrides` (per route key) applied on top. */
export function sampleBody(route: RouteDef, marker: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  if (!route.body) return {};
  const generated = sampleValue(jsonSchemaOf(route.body), { marker }) as Record<string, unknown>;
  return { ...generated, ...overrides };
}

/** Query parameters a list route needs (required ones only), as strings. */
export function sampleQuery(route: RouteDef, marker: string): Record<string, string> {
  if (!route.query) return {};
  const s = jsonSchemaOf(route.query);
  const out: Record<string, string> = {};
  for (const name of s.required ?? []) {
    const prop = s.properties?.[name] ?? {};
    if (prop.default !== undefined) continue;
    out[name] = String(sampleValue(prop, { marker }, name));
  }
  return out;
}

export const withQuery = (path: string, query: Record<string, string>) => {
  const qs = new URLSearchParams(query).toString();
  return qs ? `${path}?${qs}` : path;
};

// The product's own bounded map, for the tests that fan requests out.
export { mapLimit } from '#core/map-limit';
