/**
 * The served OpenAPI document is a valid OpenAPI 3.1 document (swagger-parser validates the
 * structure and every schema; Redocly's recommended rules lint it) and describes the whole
 * route table: every route as path + method, its path parameters, its request body schema
 * (the same zod schema the handler validates with), its query parameters, its Idempotency-Key
 * header, its security, and every status its refusals can answer. Shapes are named components.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import { errorCodes } from '#core/errors';
import { refusalsOf } from '#http/routes';
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

const redoclyBin = createRequire(import.meta.url).resolve('@redocly/cli/bin/cli.js');

let doc: Doc;
/** The same document with every $ref resolved, for reading schemas in place. */
let resolved: Doc;

beforeAll(async () => {
  const res = await api<Doc>('GET', '/v1/openapi.json');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  doc = res.body;
  resolved = (await SwaggerParser.dereference(structuredClone(doc) as never)) as unknown as Doc;
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

  it('names its shapes: every success body and request body is a component reference', () => {
    for (const route of routeTable) {
      const op = doc.paths[route.path]?.[route.method.toLowerCase()];
      const success = op?.responses?.[String(route.status)] as { content?: Record<string, { schema?: { $ref?: string } }> };
      if (route.status !== 204)
        expect(success.content?.['application/json']?.schema?.$ref, keyOf(route)).toMatch(/^#\/components\/schemas\//);
      if (route.body)
        expect(op?.requestBody?.content?.['application/json']?.schema?.$ref, keyOf(route)).toMatch(/^#\/components\/schemas\//);
    }
    const names = Object.keys((doc as unknown as { components: { schemas: object } }).components.schemas);
    for (const name of ['Agency', 'SubAccount', 'LedgerEntry', 'Campaign', 'Problem', 'Actor']) expect(names).toContain(name);
  });

  it('uses only standard formats (JSON Schema 2020-12) and closes every object it describes', () => {
    const standard = new Set([
      'date-time',
      'date',
      'time',
      'email',
      'uri',
      'uuid',
      'ipv4',
      'ipv6',
      'hostname',
      'int32',
      'int64',
      'regex',
    ]);
    const formats: string[] = [];
    const open: string[] = [];
    const walk = (node: unknown, path: string) => {
      if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${path}/${i}`));
      if (!node || typeof node !== 'object') return;
      const o = node as Record<string, unknown>;
      if (typeof o.format === 'string' && !standard.has(o.format)) formats.push(`${path}: ${o.format}`);
      if (o.type === 'object' && o.properties && o.additionalProperties === undefined && !path.includes('/properties/code'))
        open.push(path);
      for (const [k, v] of Object.entries(o)) walk(v, `${path}/${k}`);
    };
    walk((doc as unknown as { components: object }).components, '#/components');
    expect(formats).toEqual([]);
    // Response components are closed; the only open ones are the OpenAPI document itself.
    expect(
      open.filter((p) => p.startsWith('#/components/schemas/') && !p.startsWith('#/components/schemas/OpenApiDocument')),
    ).toEqual([]);
  });

  it('declares on each route every status its refusals can answer, with the codes of each', () => {
    for (const route of routeTable) {
      const op = doc.paths[route.path]?.[route.method.toLowerCase()];
      for (const code of refusalsOf(route)) {
        const declared = op?.responses?.[String(errorCodes[code].status)] as
          | { content: Record<string, { schema: { allOf: Array<{ properties?: { code?: { enum: string[] } } }> } }> }
          | undefined;
        expect(declared, `${keyOf(route)} declares ${code}`).toBeDefined();
        expect(declared?.content['application/problem+json']?.schema.allOf[1]?.properties?.code?.enum).toContain(code);
      }
    }
  });

  it('describes the CSV answer of the transactions route', () => {
    const ok = doc.paths['/v1/credits/transactions']?.get?.responses?.['200'] as { content: Record<string, unknown> };
    expect(Object.keys(ok.content).sort()).toEqual(['application/json', 'text/csv']);
  });

  for (const route of routeTable) {
    it(`describes ${keyOf(route)}`, () => {
      const op = resolved.paths[route.path]?.[route.method.toLowerCase()];
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
        if (refusalsOf(route).includes('forbidden')) expect(op!.responses?.['403']).toBeDefined();
      } else {
        expect(op!.security).toEqual([]);
      }
      if (pathParams(route.path).length) expect(op!.responses?.['404']).toBeDefined();
    });
  }
});

describe('Redocly lint (recommended rules)', () => {
  it('finds no error and no warning in the served document', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openapi-'));
    const file = join(dir, 'openapi.json');
    writeFileSync(file, JSON.stringify(doc));
    const out = spawnSync(
      process.execPath,
      [redoclyBin, 'lint', file, '--config', join(process.cwd(), 'redocly.yaml'), '--format', 'json'],
      {
        encoding: 'utf8',
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      },
    );
    const report = JSON.parse(out.stdout) as {
      totals: { errors: number; warnings: number };
      problems: Array<{ ruleId: string; message: string }>;
    };
    expect(report.problems.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  }, 60_000);
});
