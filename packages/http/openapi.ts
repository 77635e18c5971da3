import { type ErrorCode, errorCodes } from '#core/errors';
import { idPrefixes } from '#core/ids';
import * as z from '#core/zod';
import * as accountSchemas from '#domain/accounts/schemas';
import * as autoTopUpSchemas from '#domain/auto-top-up/schemas';
import * as campaignSchemas from '#domain/campaigns/schemas';
import { type EventType, eventEnvelope, eventSummaries, eventTypes } from '#domain/events/catalog';
import * as eventSchemas from '#domain/events/schemas';
import * as ledgerSchemas from '#domain/ledger/schemas';
import * as rechargeSchemas from '#domain/recharge/schemas';
import * as resellingSchemas from '#domain/reselling/schemas';
import * as responses from './responses';
import { type ParamName, paramIdKinds, type RouteDef } from './route-def';
import { manifestOf, refusalsOf, routes } from './routes';

/**
 * The OpenAPI 3.1 document, generated from the route table and the same zod schemas the
 * handlers validate with, so the contract cannot drift from the code. Response and request
 * shapes are named components; every status a route can answer is declared on it, from the
 * route's refusals and the error codes table.
 */
let cached: Record<string, unknown> | undefined;

export function openApiDocument(): Record<string, unknown> {
  cached ??= build();
  return cached;
}

type Json = Record<string, unknown>;
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** Output shapes: every export of responses.ts, under its own name. */
function responseComponents(): { schemas: Json; nameOf: Map<z.ZodMiniType, string> } {
  const registry = z.registry<{ id: string }>();
  const nameOf = new Map<z.ZodMiniType, string>();
  for (const [name, schema] of Object.entries(responses) as [string, z.ZodMiniType][]) {
    registry.add(schema, { id: name });
    nameOf.set(schema, name);
  }
  const out = z.toJSONSchema(registry, { io: 'output', uri: (id) => `#/components/schemas/${id}`, unrepresentable: 'any' });
  return { schemas: stripSchemaKeys(out.schemas), nameOf };
}

/** Request bodies, each under the name of its schema's export (`createCampaignBody` → `CreateCampaignRequest`). */
function requestComponents(list: readonly RouteDef[]): { schemas: Json; nameOf: Map<RouteDef, string> } {
  const exported = new Map<unknown, string>();
  for (const mod of [
    accountSchemas,
    campaignSchemas,
    ledgerSchemas,
    resellingSchemas,
    rechargeSchemas,
    autoTopUpSchemas,
    eventSchemas,
  ]) {
    for (const [name, value] of Object.entries(mod)) {
      if (name.endsWith('Body')) exported.set(value, `${pascal(name.slice(0, -'Body'.length))}Request`);
    }
  }
  const registry = z.registry<{ id: string }>();
  const nameOf = new Map<RouteDef, string>();
  for (const route of list) {
    if (!route.body) continue;
    const name = exported.get(route.body);
    if (!name) throw new Error(`${route.method} ${route.path}: its body schema is not an exported …Body of a schemas module`);
    if (!registry.has(route.body)) registry.add(route.body, { id: name });
    nameOf.set(route, name);
  }
  const out = z.toJSONSchema(registry, { io: 'input', uri: (id) => `#/components/schemas/${id}`, unrepresentable: 'any' });
  return { schemas: stripSchemaKeys(out.schemas), nameOf };
}

function stripSchemaKeys(schemas: Record<string, Json>): Json {
  return Object.fromEntries(Object.entries(schemas).map(([name, { $schema: _s, $id: _i, ...rest }]) => [name, rest]));
}

const operationId = (route: RouteDef) =>
  `${route.method.toLowerCase()}${route.path
    .replace(/\{(\w+)\}/g, 'By-$1')
    .replace(/[^a-zA-Z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ''))}`;
const pascal = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

function pathParameter(name: string) {
  const kinds = paramIdKinds[name as ParamName] ?? [];
  const prefixes = kinds.map((k) => idPrefixes[k]).join('|');
  return {
    name,
    in: 'path',
    required: true,
    description: `An id (${kinds.map((k) => `${idPrefixes[k]}_…`).join(' or ')}); any other shape is a 404`,
    schema: { type: 'string', pattern: `^(${prefixes})_[0-9a-hjkmnp-tv-z]{26}$` },
  };
}

function queryParameters(route: RouteDef) {
  if (!route.query) return [];
  const q = z.toJSONSchema(route.query, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, Json>;
    required?: string[];
  };
  return Object.entries(q.properties ?? {}).map(([name, schema]) => ({
    name,
    in: 'query',
    required: (q.required ?? []).includes(name) && !('default' in schema),
    schema,
  }));
}

/** One problem response per status, naming the codes the route can answer with it. */
function problemResponses(route: RouteDef): Json {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of refusalsOf(route)) {
    const { status } = errorCodes[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const out: Json = {};
  for (const [status, codes] of byStatus) {
    out[String(status)] = {
      description: codes.map((c) => `\`${c}\`: ${errorCodes[c].title}`).join('; '),
      ...(status === 503 || status === 429 ? { headers: { 'Retry-After': { schema: { type: 'integer' } } } } : {}),
      content: {
        'application/problem+json': {
          schema: {
            allOf: [ref('Problem'), { type: 'object', properties: { code: { enum: codes }, status: { const: status } } }],
          },
        },
      },
    };
  }
  return out;
}

function operation(route: RouteDef, names: { response: Map<z.ZodMiniType, string>; request: Map<RouteDef, string> }) {
  const params: Json[] = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => pathParameter(m[1] ?? ''));
  params.push(...queryParameters(route));
  if (route.idempotent) {
    params.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: true,
      description: 'A retry with the same key and body returns the first response and moves nothing',
      schema: { type: 'string', minLength: 1, maxLength: 255 },
    });
  }
  const responseName = route.response && names.response.get(route.response);
  if (route.response && !responseName)
    throw new Error(`${route.method} ${route.path}: its response schema is not exported by responses.ts`);
  const success =
    route.status === 204
      ? { description: 'No content' }
      : {
          description: 'OK',
          content: {
            'application/json': { schema: responseName ? ref(responseName) : { type: 'object' } },
            ...(route.csv ? { 'text/csv': { schema: { type: 'string', description: 'RFC 4180 CSV with a header row' } } } : {}),
          },
          ...(route.csv
            ? {
                headers: {
                  'X-Next-Cursor': { description: 'CSV only: where the next download starts', schema: { type: 'string' } },
                },
              }
            : {}),
        };
  const requestName = names.request.get(route);
  return {
    operationId: operationId(route),
    summary: route.summary,
    tags: [route.fn],
    security: route.allow.length ? [{ bearer: [] }] : [],
    ...(params.length ? { parameters: params } : {}),
    ...(requestName ? { requestBody: { required: true, content: { 'application/json': { schema: ref(requestName) } } } } : {}),
    responses: { [String(route.status)]: success, ...problemResponses(route) },
  };
}

/**
 * The event catalog as OpenAPI 3.1 `webhooks`: one POST per event type, its body the event's
 * envelope (a named component, `…Event`), signed with Standard Webhooks headers.
 */
function eventWebhooks(): { webhooks: Json; schemas: Json } {
  const registry = z.registry<{ id: string }>();
  const names = new Map<EventType, string>();
  for (const type of eventTypes) {
    const name = `${type.split(/[._]/).map(pascal).join('')}Event`;
    registry.add(eventEnvelope(type), { id: name });
    names.set(type, name);
  }
  const out = z.toJSONSchema(registry, { io: 'output', uri: (id) => `#/components/schemas/${id}`, unrepresentable: 'any' });
  const header = (description: string) => ({ required: true, description, schema: { type: 'string' } });
  const webhooks: Json = {};
  for (const type of eventTypes) {
    webhooks[type] = {
      post: {
        operationId: `event${pascal(names.get(type) ?? type)}`,
        summary: eventSummaries[type],
        // Not a bearer token: the body is signed (the webhook-signature header).
        security: [],
        description:
          'Sent to each enabled endpoint subscribed to this type (POST /v1/webhook-endpoints), at least once: `webhook-id` is the same on every attempt, `id` the same for every endpoint. Any 2xx within 10 s is success; 410 turns the endpoint off.',
        parameters: [
          { name: 'webhook-id', in: 'header', ...header('msg_…: the delivery, the same on every attempt') },
          { name: 'webhook-timestamp', in: 'header', ...header('Unix seconds of this attempt') },
          {
            name: 'webhook-signature',
            in: 'header',
            ...header('v1,<base64 HMAC-SHA256> (Standard Webhooks); two, space separated, for 24 h after a rotation'),
          },
        ],
        requestBody: { required: true, content: { 'application/json': { schema: ref(names.get(type) ?? type) } } },
        responses: { '200': { description: 'Any 2xx: received' }, '410': { description: 'Gone: the endpoint is turned off' } },
      },
    };
  }
  return { webhooks, schemas: stripSchemaKeys(out.schemas) };
}

function build(): Json {
  const list = routes as readonly RouteDef[];
  const out = responseComponents();
  const input = requestComponents(list);
  const events = eventWebhooks();
  const paths: Record<string, Json> = {};
  for (const route of list) {
    paths[route.path] = {
      ...paths[route.path],
      [route.method.toLowerCase()]: operation(route, { response: out.nameOf, request: input.nameOf }),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Agency accounts API',
      version: '1.0.0',
      description: 'Agencies, sub-accounts, shared credits, reselling. Errors are RFC 9457 problem JSON with a stable `code`.',
      license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
    },
    servers: [{ url: '/' }],
    tags: [...new Set(routes.map((r) => r.fn))].map((name) => ({ name, description: manifestOf(name).description })),
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'Session token, assist token, agency API key (ak_…) or platform key',
        },
      },
      schemas: { ...out.schemas, ...input.schemas, ...events.schemas },
    },
    paths,
    webhooks: events.webhooks,
  };
}
