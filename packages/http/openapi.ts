import * as z from 'zod';
import { errorCodes } from '../core/errors';
import { type RouteDef, routes } from './routes';

/**
 * The OpenAPI 3.1 document, generated from the route table and the same zod schemas the
 * handlers validate with, so the contract cannot drift from the code.
 */
let cached: Record<string, unknown> | undefined;

export function openApiDocument(): Record<string, unknown> {
  cached ??= build();
  return cached;
}

const problemSchema = {
  type: 'object',
  required: ['type', 'title', 'status', 'code'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    code: { type: 'string', enum: Object.keys(errorCodes) },
    detail: { type: 'string' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['field', 'message'],
        properties: { field: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
};

function jsonSchema(schema: z.ZodType, io: 'input' | 'output' = 'input'): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

function operation(route: RouteDef) {
  const params = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
    name: m[1],
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  if (route.query) {
    const q = jsonSchema(route.query) as { properties?: Record<string, unknown>; required?: string[] };
    for (const [name, schema] of Object.entries(q.properties ?? {})) {
      params.push({ name, in: 'query', required: (q.required ?? []).includes(name), schema } as never);
    }
  }
  if (route.idempotent) {
    params.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: true,
      schema: { type: 'string', minLength: 1, maxLength: 255 },
    } as never);
  }
  const problemRef = {
    description: 'Problem',
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  };
  const responses: Record<string, unknown> = {
    [String(route.status)]:
      route.status === 204
        ? { description: 'No content' }
        : {
            description: 'OK',
            content: {
              'application/json': { schema: route.response ? jsonSchema(route.response, 'output') : { type: 'object' } },
            },
          },
    '400': problemRef,
  };
  if (route.allow.length) Object.assign(responses, { '401': problemRef, '403': problemRef });
  if (route.scope || route.path.includes('{')) responses['404'] = problemRef;
  return {
    operationId: `${route.method.toLowerCase()}${route.path.replace(/\{(\w+)\}/g, 'By-$1').replace(/[^a-zA-Z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
    summary: route.summary,
    tags: [route.fn],
    ...(route.allow.length ? { security: [{ bearer: [] }] } : { security: [] }),
    ...(params.length ? { parameters: params } : {}),
    ...(route.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.body) } } } }
      : {}),
    responses,
  };
}

function build(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes as readonly RouteDef[]) {
    paths[route.path] = { ...paths[route.path], [route.method.toLowerCase()]: operation(route) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Agency accounts API',
      version: '1.0.0',
      description: 'Agencies, sub-accounts, shared credits, reselling. Errors are RFC 9457 problem JSON with a stable `code`.',
    },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'Session token, assist token, agency API key (ak_…) or platform key',
        },
      },
      schemas: { Problem: problemSchema },
    },
    paths,
  };
}
