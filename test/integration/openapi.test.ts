/**
 * The served OpenAPI document is a valid OpenAPI 3.1 document (swagger-parser validates the
 * structure and every schema) and describes the whole route table: every route as path +
 * method, its path parameters, its request body schema (the same zod schema the handler
 * validates with), its query parameters, its Idempotency-Key header and its security.
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import { api } from '../support/api';
import { jsonSchemaOf, keyOf, pathParams, routeTable } from '../support/routes';

interface Operation {
  operationId?: string;
  security?: unknown[];
  parameters?: Array<{ name: string; in: string; required?: boolean }>;
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Record<string, unknown> }> };
  responses?: Record<string, unknown>;
}
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>> };

let doc: Doc;

beforeAll(async () => {
  const res = await api<Doc>('GET', '/v1/openapi.json');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  doc = res.body;
});

describe('GET /v1/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toMatch(/^3\.1\./);
    // validate() dereferences in place: give it a copy.
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeTruthy();
  });

  it('has every route of the route table, and nothing else', () => {
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(routeTable.map(keyOf).sort());
  });

  it('has unique operation ids', () => {
    const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => op.operationId));
    expect(ids.every(Boolean)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  for (const route of routeTable) {
    it(`describes ${keyOf(route)}`, () => {
      const op = doc.paths[route.path]?.[route.method.toLowerCase()];
      expect(op).toBeDefined();
      const params = op!.parameters ?? [];

      const inPath = params.filter((p) => p.in === 'path').map((p) => p.name);
      expect(inPath.sort()).toEqual(pathParams(route.path).sort());
      expect(params.filter((p) => p.in === 'path').every((p) => p.required)).toBe(true);

      if (route.body) {
        const schema = op!.requestBody?.content?.['application/json']?.schema;
        expect(op!.requestBody?.required).toBe(true);
        expect(schema).toBeDefined();
        // The documented schema is the handler's schema: same properties, same required ones, closed.
        const expected = jsonSchemaOf(route.body);
        expect(Object.keys((schema!.properties as object) ?? {}).sort()).toEqual(Object.keys(expected.properties ?? {}).sort());
        expect(((schema!.required as string[]) ?? []).sort()).toEqual((expected.required ?? []).sort());
        expect(schema!.additionalProperties).toBe(false);
      } else {
        expect(op!.requestBody).toBeUndefined();
      }

      if (route.query) {
        const documented = params.filter((p) => p.in === 'query').map((p) => p.name);
        expect(documented.sort()).toEqual(Object.keys(jsonSchemaOf(route.query).properties ?? {}).sort());
      }

      const idempotency = params.find((p) => p.in === 'header' && p.name.toLowerCase() === 'idempotency-key');
      expect(Boolean(idempotency?.required)).toBe(Boolean(route.idempotent));

      expect(op!.responses?.[String(route.status)]).toBeDefined();
      // Every route that answers with a body declares its shape, and the document publishes it.
      if (route.status !== 204) {
        expect(route.response, `${keyOf(route)} declares a response schema`).toBeDefined();
        const published = (
          op!.responses?.[String(route.status)] as { content?: Record<string, { schema?: { properties?: object } }> }
        ).content?.['application/json']?.schema;
        expect(published?.properties ?? (published as { anyOf?: unknown })?.anyOf).toBeDefined();
      }
      if (route.allow.length) {
        expect(op!.security).toEqual([{ bearer: [] }]);
        expect(op!.responses?.['401']).toBeDefined();
        expect(op!.responses?.['403']).toBeDefined();
      } else {
        expect(op!.security).toEqual([]);
      }
      if (pathParams(route.path).length) expect(op!.responses?.['404']).toBeDefined();
    });
  }
});
