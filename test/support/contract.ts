import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { _, Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import standaloneCodeModule from 'ajv/dist/standalone/index.js';
import addFormatsModule from 'ajv-formats';
import { errorCodes } from '#core/errors';
import { openApiDocument } from '#http/openapi';
import { matchRoute } from '#http/routes';

/**
 * Every response a test receives — over HTTP or from an in-process invocation, success or
 * refusal — is checked against the published OpenAPI document with a strict JSON Schema
 * 2020-12 validator (Ajv, strict mode): the status must be declared on the route, the content
 * type declared for that status, and the body must match its schema, closed objects included.
 * A field the server sends that the document does not declare fails the test that got it.
 */
const BASE = 'https://agency-accounts.test/openapi.json';
type Json = Record<string, unknown>;
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const standaloneCode = standaloneCodeModule as unknown as (ajv: Ajv2020, refs: Record<string, string>) => string;

interface Operation {
  parameters?: Array<{ name: string; in: 'path' | 'query' | 'header'; schema: Json }>;
  requestBody?: { content: Record<string, { schema: Json }> };
  responses: Record<string, { content?: Record<string, { schema: Json }> }>;
}
const doc = openApiDocument() as {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Json> };
};

/** `#/components/schemas/X` → an absolute ref into one schema resource holding every component. */
function rebase(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rebase);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        k === '$ref' && typeof v === 'string' ? v.replace('#/components/schemas/', `${BASE}#/$defs/`) : rebase(v),
      ]),
    );
  }
  return value;
}

const problemSchema = { $ref: '#/components/schemas/Problem' };

/** The key of each validator: one set of builders for the document's list and for the checks that ask. */
type RouteKey = { method: string; path: string };
const keyOf = (route: RouteKey) => `${route.method.toUpperCase()} ${route.path}`;
const responseKey = (route: RouteKey, status: number | string, mediaType: string) => `${keyOf(route)} ${status} ${mediaType}`;
const requestKey = (route: RouteKey) => `${keyOf(route)} request`;
const paramKey = (route: RouteKey, where: 'path' | 'query', name: string) => `${keyOf(route)} ${where} ${name}`;

/** Standalone validators load their formats from here (the ones `addFormats` gives a live instance). */
const code = { source: true, formats: _`require("ajv-formats/dist/formats").fullFormats` };
const ajv = addFormats(new Ajv2020({ strict: true, allErrors: true, code }));
ajv.addKeyword('example');
ajv.addSchema({ $id: BASE, $defs: rebase(doc.components.schemas) as Json });
/** Query values arrive as strings: this validator reads `"50"` as the integer the document types. */
const queryAjv = addFormats(new Ajv2020({ strict: true, allErrors: true, coerceTypes: true, code }));

/**
 * Every validator the document implies, by the key `validatorFor` is asked with: each declared
 * JSON response, the gateway's fallback problem, each request body and each declared path
 * parameter (`ajv`), and each declared query parameter (`queryAjv`, coercing).
 */
function documentSchemas(): { plain: Record<string, Json>; query: Record<string, Json> } {
  const plain: Record<string, Json> = { fallback: problemSchema };
  const query: Record<string, Json> = {};
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      const route = { method, path };
      for (const [status, response] of Object.entries(operation.responses))
        for (const [mediaType, media] of Object.entries(response.content ?? {}))
          if (mediaType !== 'text/csv') plain[responseKey(route, status, mediaType)] = media.schema;
      const body = operation.requestBody?.content['application/json']?.schema;
      if (body) plain[requestKey(route)] = body;
      for (const p of operation.parameters ?? []) {
        if (p.in === 'path') plain[paramKey(route, 'path', p.name)] = p.schema;
        if (p.in === 'query') query[paramKey(route, 'query', p.name)] = p.schema;
      }
    }
  }
  return { plain, query };
}

/**
 * The document's validators, compiled once per version of the document and kept as standalone
 * code under node_modules/.cache: every test file's process loads them instead of compiling
 * them again (Ajv's compiling was 1–3 s of CPU per stack file, most of a file's own CPU).
 */
function precompiled(): { plain: Map<string, ValidateFunction>; query: Map<string, ValidateFunction> } {
  const require = createRequire(import.meta.url);
  const ajvVersion = (require('ajv/package.json') as { version: string }).version;
  const schemas = documentSchemas();
  const hash = createHash('sha256').update(JSON.stringify({ ajvVersion, doc, schemas })).digest('hex').slice(0, 16);
  const dir = join(import.meta.dirname, '../../node_modules/.cache/contract');
  const file = (kind: string) => join(dir, `${kind}-${hash}.cjs`);
  const names = (keys: Record<string, Json>) => Object.keys(keys).map((key, i) => [key, `v${i}`] as const);
  const build = (kind: 'plain' | 'query', instance: Ajv2020, keys: Record<string, Json>) => {
    if (existsSync(file(kind))) return;
    const refs: Record<string, string> = {};
    for (const [key, name] of names(keys)) {
      const id = `${BASE}/${kind}/${name}`;
      instance.addSchema({ ...(rebase(keys[key]) as Json), $id: id });
      refs[name] = id;
    }
    mkdirSync(dir, { recursive: true });
    // An older document's validators are of no more use (7 MB each).
    for (const name of readdirSync(dir))
      if (name.startsWith(`${kind}-`) && !name.includes(hash)) rmSync(join(dir, name), { force: true });
    // Written whole, then renamed: a process that finds the file finds all of it.
    const partial = `${file(kind)}.${process.pid}`;
    writeFileSync(partial, standaloneCode(instance, refs));
    renameSync(partial, file(kind));
  };
  const load = (kind: 'plain' | 'query', keys: Record<string, Json>) => {
    const module = require(file(kind)) as Record<string, ValidateFunction>;
    return new Map(names(keys).map(([key, name]) => [key, module[name] as ValidateFunction]));
  };
  build('plain', ajv, schemas.plain);
  build('query', queryAjv, schemas.query);
  return { plain: load('plain', schemas.plain), query: load('query', schemas.query) };
}

const { plain: validators, query: queryValidators } = precompiled();

/** The precompiled validator of `key`, or one compiled now (a key the document does not declare, e.g. an undeclared path parameter). */
function validatorFor(key: string, schema: Json): ValidateFunction {
  let v = validators.get(key);
  if (!v) {
    v = ajv.compile(rebase(schema) as Json);
    validators.set(key, v);
  }
  return v;
}

export interface ObservedResponse {
  method: string;
  path: string;
  status: number;
  contentType: string | undefined;
  body: unknown;
}

/** Throws, naming what differs, when a response is not what the document declares. */
export function checkResponse(r: ObservedResponse): void {
  const where = `${r.method} ${r.path} → ${r.status}`;
  const pathname = new URL(r.path, 'http://x').pathname;
  const match = matchRoute(r.method, pathname);
  const mediaType = r.contentType?.split(';')[0]?.trim();

  // No route: the gateway's `$default` answers 404/405 (or 413 before any function) as problem JSON.
  if (!match.route) {
    if (![404, 405, 413].includes(r.status)) throw new Error(`${where}: no route, yet not a 404/405/413`);
    validate(`${where} (fallback)`, 'fallback', problemSchema, r.body, mediaType, 'application/problem+json');
    return;
  }
  const operation = doc.paths[match.route.path]?.[match.route.method.toLowerCase()];
  const declared = operation?.responses[String(r.status)];
  if (!declared) {
    const code = (r.body as { code?: string } | undefined)?.code;
    throw new Error(`${where}: status not declared on the route${code ? ` (code ${code})` : ''}`);
  }
  if (r.status === 204 || !declared.content) {
    if (r.body !== undefined && r.body !== '') throw new Error(`${where}: a body where none is declared`);
    return;
  }
  const media = mediaType && declared.content[mediaType];
  if (!media) throw new Error(`${where}: content type ${mediaType} not declared (${Object.keys(declared.content).join(', ')})`);
  if (mediaType === 'text/csv') return;
  validate(where, responseKey(match.route, r.status, mediaType), media.schema, r.body, mediaType, mediaType);
}

function validate(where: string, key: string, schema: Json, body: unknown, got: string | undefined, expected: string) {
  if (got !== expected) throw new Error(`${where}: content type ${got}, expected ${expected}`);
  const v = validatorFor(key, schema);
  if (!v(body)) {
    throw new Error(
      `${where}: body does not match the published schema:\n${ajv.errorsText(v.errors, { separator: '\n' })}\n${JSON.stringify(body)}`,
    );
  }
  const code = (body as { code?: string }).code;
  if (code && code in errorCodes && errorCodes[code as keyof typeof errorCodes].status !== (body as { status: number }).status) {
    throw new Error(`${where}: code ${code} answered with the wrong status`);
  }
}

// ---------------------------------------------------------------------------------------------
// Requests: what the server let through must be what the document allows.

/** The operation the document declares for a concrete request, and its path parameters. */
function operationOf(method: string, path: string) {
  const match = matchRoute(method, new URL(path, 'http://x').pathname);
  const operation = match.route && doc.paths[match.route.path]?.[method.toLowerCase()];
  return match.route && operation ? { route: match.route, params: match.params, operation } : undefined;
}

/** The JSON Schema of a route's request body in the document (component references resolved by `schemaAt`). */
export function requestBodySchema(method: string, path: string): Json | undefined {
  return operationOf(method, path)?.operation.requestBody?.content['application/json']?.schema;
}

/** `#/components/schemas/X` → that component; anything else as is. */
export function schemaAt(schema: Json): Json {
  const ref = schema.$ref;
  return typeof ref === 'string' ? (doc.components.schemas[ref.replace('#/components/schemas/', '')] ?? schema) : schema;
}

/**
 * Throws, naming what differs, when a request the server accepted (its validation let it
 * through) is not one the document allows: its path parameters, its declared query
 * parameters and its body (JSON, valid against the request body schema, closed
 * objects included). So a validator looser in code than in the document fails the caller.
 */
export function checkAcceptedRequest(r: { method: string; path: string; rawBody?: string }): void {
  const where = `${r.method} ${r.path.slice(0, 200)} was accepted`;
  const found = operationOf(r.method, r.path);
  if (!found) throw new Error(`${where}, but the document has no such operation`);
  const { route, params, operation } = found;
  const declared = new Map((operation.parameters ?? []).map((p) => [`${p.in} ${p.name}`, p.schema]));
  const problems: string[] = [];
  for (const [name, value] of Object.entries(params)) {
    const v = validatorFor(paramKey(route, 'path', name), declared.get(`path ${name}`) ?? {});
    if (!v(value)) problems.push(`path parameter ${name} ${JSON.stringify(value)}: ${ajv.errorsText(v.errors)}`);
  }
  const query: Record<string, string> = {};
  for (const [k, v] of new URL(r.path, 'http://x').searchParams) query[k] = k in query ? `${query[k]},${v}` : v;
  // A parameter the document does not declare says nothing either way (OpenAPI cannot close a query).
  for (const [name, value] of Object.entries(query)) {
    const schema = declared.get(`query ${name}`);
    const v = schema && queryValidatorFor(paramKey(route, 'query', name), schema);
    if (v && !v(value)) problems.push(`query parameter ${name}=${JSON.stringify(value)}: ${queryAjv.errorsText(v.errors)}`);
  }
  const bodySchema = operation.requestBody?.content['application/json']?.schema;
  if (bodySchema) {
    let body: unknown;
    try {
      body = JSON.parse(r.rawBody ?? '');
    } catch {
      problems.push('its body is not JSON');
    }
    const v = validatorFor(requestKey(route), bodySchema);
    if (body !== undefined && !v(body)) problems.push(`its body: ${ajv.errorsText(v.errors, { separator: '; ' })}`);
  }
  if (problems.length) {
    throw new Error(`${where}, but the document does not allow it:\n${problems.join('\n')}\n${(r.rawBody ?? '').slice(0, 500)}`);
  }
}

function queryValidatorFor(key: string, schema: Json): ValidateFunction {
  let v = queryValidators.get(key);
  if (!v) {
    v = queryAjv.compile(schema);
    queryValidators.set(key, v);
  }
  return v;
}
