/**
 * Bad input is refused before anything happens, for EVERY route in the route table that takes
 * a body or a query (new routes are covered from their zod schemas, without edits here):
 *  - malformed JSON, a JSON array or scalar, an empty body, a `__proto__` key → 400 naming `body`
 *    or the key;
 *  - each required field missing, an unknown field (top level and nested), each field with a
 *    wrong type, each string/number/array just outside its bounds → 400 `invalid_request`
 *    problem JSON whose `errors[].field` names that field;
 *  - a control character (BEL, NUL, C1) in any text field, and a CR-LF in any one-line field → 400
 *    naming it (free text keeps newlines and tabs);
 *  - a body over the route's limit (256 KiB unless it says more) → 413; a non-JSON content type → 415; a money route without a usable
 *    Idempotency-Key → 400;
 *  - and NOTHING is written: every generated string carries a unique marker that must appear in
 *    no item afterwards, and every item of the tenant is deep-equal before and after (sorted by
 *    key: an in-place update, a bumped meter, is caught as surely as a new item).
 * Also: every body string and array is bounded (schema lint), an unknown route is a 404 and a
 * wrong method a 405 with an `Allow` header, both as problem JSON.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_BODY_BYTES } from '#http/handler';
import type { RouteDef } from '#http/routes';
import { pathPattern } from '#http/routes';
import { type ApiResponse, api, type CallOptions, uniq } from '../support/api';
import {
  fillPath,
  fixtureBodies,
  type JsonSchema,
  jsonSchemaOf,
  keyOf,
  mapLimit,
  missingId,
  paramRole,
  pathParams,
  routeTable,
  sampleBody,
  sampleValue,
  typesOf,
  withQuery,
} from '../support/routes';
import { stack } from '../support/stack';
import { itemsMentioning } from '../support/table';
import { type Caller, callersOf, createTenant, settleOutbox, type TenantFixture, tenantItems } from '../support/tenants';

const CONCURRENCY = 8;

let C: TenantFixture;
let callers: Caller[];

beforeAll(async () => {
  C = await createTenant(1);
  callers = callersOf(C, 'C');
  // The credential email's outbox item is deleted asynchronously; let it go before counting items.
  await settleOutbox(C.agency.agencyId);
}, 120_000);

/** The caller, path and base body under which `route` gets as far as validation. */
function target(route: RouteDef, marker: string) {
  const preference = ['agency_user', 'api_key', 'sub_account_user', 'assist', 'platform'];
  const caller = route.allow.length
    ? preference.map((k) => callers.find((c) => c.kind === k && route.allow.includes(c.kind))).find(Boolean)
    : undefined;
  if (route.allow.length && !caller) throw new Error(`no caller for ${keyOf(route)}`);
  const home = C.subs[0]!.subAccountId;
  const values: Record<string, string> = {};
  for (const name of pathParams(route.path)) {
    const role = paramRole(route, name);
    values[name] = role === 'object' ? missingId(name) : name === 'agencyId' ? C.agency.agencyId : home;
  }
  const base = route.body
    ? sampleBody(route, marker, fixtureBodies[keyOf(route)]?.({ home, agencyId: C.agency.agencyId }))
    : undefined;
  return { caller, path: fillPath(route.path, values), base };
}

// ---------------------------------------------------------------------------------------------
// Fields and mutations, derived from the JSON Schema of the route's zod schema.

type Path = Array<string | number>;
interface Field {
  path: Path;
  schema: JsonSchema;
  required: boolean;
}

const objectish = (s: JsonSchema) => (s.properties ? s : ((s.anyOf ?? s.oneOf)?.find((m) => m.properties) ?? s));
const arrayish = (s: JsonSchema) => (s.items ? s : ((s.anyOf ?? s.oneOf)?.find((m) => m.items) ?? s));

/** Every field, nested objects and the first item of arrays included (`faqs.0.question`). */
function fieldsOf(schema: JsonSchema, path: Path = []): Field[] {
  const s = objectish(schema);
  const out: Field[] = [];
  for (const [name, prop] of Object.entries(s.properties ?? {})) {
    const p = [...path, name];
    out.push({ path: p, schema: prop, required: (s.required ?? []).includes(name) });
    if (objectish(prop).properties) out.push(...fieldsOf(prop, p));
    const items = arrayish(prop).items;
    if (items) {
      out.push({ path: [...p, 0], schema: items, required: false });
      if (objectish(items).properties) out.push(...fieldsOf(items, [...p, 0]));
    }
  }
  return out;
}

/** A copy of `base` with the value at `path` replaced (or deleted), creating valid parents on the way. */
function mutate(base: Record<string, unknown>, root: JsonSchema, path: Path, op: { set: unknown } | 'delete', marker: string) {
  const body = structuredClone(base);
  let node: Record<string | number, unknown> = body;
  let schema = root;
  for (let i = 0; i < path.length - 1; i++) {
    const seg = path[i]!;
    schema = typeof seg === 'number' ? (arrayish(schema).items ?? {}) : (objectish(schema).properties?.[seg] ?? {});
    if (node[seg] === undefined || node[seg] === null || typeof node[seg] !== 'object')
      node[seg] = sampleValue(schema, { marker }, String(seg));
    node = node[seg] as Record<string | number, unknown>;
  }
  const last = path[path.length - 1]!;
  if (op === 'delete') delete node[last];
  else node[last] = op.set;
  return body;
}

function wrongTypeValue(s: JsonSchema): unknown {
  const types = typesOf(s);
  if (!types) return undefined;
  const candidates: Array<[string, unknown]> = [
    ['number', 12345],
    ['string', 'wrong-type'],
    ['boolean', true],
    ['object', { wrong: 'type' }],
    ['array', ['wrong']],
  ];
  const found = candidates.find(([t]) => !types.includes(t) && !(t === 'number' && types.includes('integer')));
  return found?.[1];
}

/** Values just outside the field's bounds, each with a label. */
function outOfBounds(s: JsonSchema, marker: string): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  const types = typesOf(s) ?? [];
  if (types.includes('string') && !s.enum && s.const === undefined) {
    const long = (n: number) => (marker + 'x'.repeat(n)).slice(0, n);
    if (s.maxLength !== undefined) out.push([`a string of ${s.maxLength + 1} chars`, long(s.maxLength + 1)]);
    else if (s.pattern) out.push(['a string of 5000 chars', long(5000)]);
    if (s.minLength) out.push([`a string of ${s.minLength - 1} chars`, long(s.minLength - 1)]);
  }
  if (types.includes('integer') || types.includes('number')) {
    if (s.maximum !== undefined) out.push([`${s.maximum + 1} (> maximum)`, s.maximum + 1]);
    if (s.exclusiveMaximum !== undefined) out.push([`${s.exclusiveMaximum} (≥ exclusive maximum)`, s.exclusiveMaximum]);
    if (s.minimum !== undefined) out.push([`${s.minimum - 1} (< minimum)`, s.minimum - 1]);
    if (s.exclusiveMinimum !== undefined) out.push([`${s.exclusiveMinimum} (≤ exclusive minimum)`, s.exclusiveMinimum]);
    if (types.includes('integer') && !types.includes('number')) out.push(['a fraction', 1.5]);
  }
  if (types.includes('array')) {
    const item = sampleValue(arrayish(s).items ?? {}, { marker });
    if (s.maxItems !== undefined)
      out.push([`${s.maxItems + 1} items`, Array.from({ length: s.maxItems + 1 }, () => structuredClone(item))]);
    if (s.minItems) out.push([`${s.minItems - 1} items`, Array.from({ length: s.minItems - 1 }, () => structuredClone(item))]);
  }
  return out;
}

/** A string field that takes text (not an enum or a constant). */
const isTextField = (s: JsonSchema) => (typesOf(s) ?? []).includes('string') && !s.enum && s.const === undefined;
/** Whether the field's published pattern admits a line break (free text) or not (one line). */
const allowsNewlines = (s: JsonSchema) => !s.pattern || new RegExp(s.pattern, 'u').test('a\nb');

/**
 * Values that are valid but for control characters, at the field's own length: a bell, a NUL
 * and a C1 control in every text field; a CR-LF in every one-line field (free text keeps
 * newlines and tabs).
 */
function controlCharacters(s: JsonSchema, marker: string): Array<[string, string]> {
  const valid = String(sampleValue(s, { marker }));
  const at = (i: number, insert: string) => valid.slice(0, i) + insert + valid.slice(i + insert.length);
  const i = Math.min(1, valid.length - 1);
  const out: Array<[string, string]> = [
    ['a BEL (U+0007)', at(i, '\u0007')],
    ['a NUL (U+0000)', at(i, '\u0000')],
    ['a C1 control (U+0085)', at(i, '\u0085')],
  ];
  if (!allowsNewlines(s) && valid.length >= 3) out.push(['a CR-LF', at(i, '\r\n')]);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Running cases and judging answers.

interface Case {
  label: string;
  opts: CallOptions;
  status: number;
  code: string;
  /** A field `errors[]` must name. */
  field?: string;
}

function verdict(c: Case, res: ApiResponse): string | undefined {
  const problems: string[] = [];
  if (res.status !== c.status) problems.push(`status ${res.status}`);
  if (res.body?.code !== c.code) problems.push(`code ${res.body?.code}`);
  if (!res.headers.get('content-type')?.startsWith('application/problem+json'))
    problems.push(`content-type ${res.headers.get('content-type')}`);
  if (c.field !== undefined) {
    const fields = Array.isArray(res.body?.errors) ? (res.body.errors as Array<{ field: string }>).map((e) => e.field) : [];
    if (!fields.includes(c.field)) problems.push(`errors[].field ${JSON.stringify(fields)} lacks "${c.field}"`);
  }
  return problems.length
    ? `${c.label}: expected ${c.status} ${c.code}${c.field ? ` naming ${c.field}` : ''}; ${problems.join(', ')}: ${res.text.slice(0, 300)}`
    : undefined;
}

/** Runs the cases and checks that nothing mentioning `marker` was written and every item of the tenant is as it was. */
async function runWritingNothing(method: string, path: string, token: string | undefined, cases: Case[], marker: string) {
  const before = await tenantItems(C);
  const failures = (
    await mapLimit(cases, CONCURRENCY, async (c) => {
      const headers: Record<string, string> = { 'idempotency-key': randomUUID(), ...c.opts.headers };
      return verdict(c, await api(method, path, { ...c.opts, token, headers }));
    })
  ).filter(Boolean);
  expect(failures).toEqual([]);
  expect(await itemsMentioning(marker), 'items written by refused requests').toEqual([]);
  expect(await tenantItems(C), "the tenant's items, deep").toEqual(before);
}

function bodyCases(route: RouteDef, base: Record<string, unknown>, marker: string): Case[] {
  const schema = jsonSchemaOf(route.body!);
  const invalid = (label: string, opts: CallOptions, field?: string): Case => ({
    label,
    opts,
    status: 400,
    code: 'invalid_request',
    field,
  });
  const json = JSON.stringify(base);
  const cases: Case[] = [
    invalid('truncated JSON', { rawBody: json.slice(0, -1) }, 'body'),
    invalid('JSON with single quotes', { rawBody: `{'name': '${marker}'}` }, 'body'),
    invalid('JSON with a trailing comma', { rawBody: `${json.slice(0, -1)},}` }, 'body'),
    invalid('an empty body', { rawBody: '' }, 'body'),
    invalid('a JSON array', { rawBody: `[${json}]` }, 'body'),
    invalid('a JSON string', { rawBody: JSON.stringify(marker) }, 'body'),
    invalid('a JSON number', { rawBody: '42' }, 'body'),
    invalid('JSON null', { rawBody: 'null' }, 'body'),
    invalid(
      'a __proto__ key',
      { rawBody: `${json.slice(0, -1)}${json === '{}' ? '' : ','}"__proto__":{"${marker}":true}}` },
      '__proto__',
    ),
  ];
  const unknown = `unknown_${randomBytes(3).toString('hex')}`;
  cases.push(invalid('an unknown field', { body: { ...base, [unknown]: marker } }, unknown));
  for (const f of fieldsOf(schema)) {
    const name = f.path.join('.');
    const at = (value: unknown) => ({ body: mutate(base, schema, f.path, { set: value }, marker) });
    if (f.required) cases.push(invalid(`${name} missing`, { body: mutate(base, schema, f.path, 'delete', marker) }, name));
    const wrong = wrongTypeValue(f.schema);
    if (wrong !== undefined) cases.push(invalid(`${name} of the wrong type`, at(wrong), name));
    for (const [label, value] of outOfBounds(f.schema, marker)) cases.push(invalid(`${name} = ${label}`, at(value), name));
    if (isTextField(f.schema))
      for (const [label, value] of controlCharacters(f.schema, marker))
        cases.push(invalid(`${name} with ${label}`, at(value), name));
    const obj = objectish(f.schema);
    if (obj.properties && obj.additionalProperties === false) {
      cases.push(
        invalid(
          `an unknown field in ${name}`,
          at({ ...(sampleValue(obj, { marker }) as object), [unknown]: marker }),
          `${name}.${unknown}`,
        ),
      );
    }
  }
  const limit = route.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  cases.push({
    label: `a body over ${limit / 1024} KiB`,
    opts: { body: { ...base, [unknown]: marker + 'x'.repeat(limit + 44 * 1024) } },
    status: 413,
    code: 'payload_too_large',
  });
  for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml']) {
    cases.push({
      label: `content-type ${type}`,
      opts: { rawBody: json, headers: { 'content-type': type } },
      status: 415,
      code: 'unsupported_media_type',
    });
  }
  if (route.idempotent) {
    cases.push({
      label: 'no Idempotency-Key',
      opts: { body: base, headers: { 'idempotency-key': '' } },
      status: 400,
      code: 'idempotency_key_missing',
      field: 'Idempotency-Key',
    });
    cases.push({
      label: 'a 256-char Idempotency-Key',
      opts: { body: base, headers: { 'idempotency-key': 'k'.repeat(256) } },
      status: 400,
      code: 'idempotency_key_missing',
      field: 'Idempotency-Key',
    });
  }
  return cases;
}

function queryCases(route: RouteDef, marker: string): Array<Case & { query: Record<string, string> }> {
  const schema = jsonSchemaOf(route.query!);
  const invalid = (label: string, query: Record<string, string>, field: string) => ({
    label,
    query,
    opts: {},
    status: 400,
    code: 'invalid_request',
    field,
  });
  const unknown = `unknown_${randomBytes(3).toString('hex')}`;
  const cases = [invalid('an unknown query parameter', { [unknown]: marker }, unknown)];
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    const types = typesOf(prop) ?? [];
    if (types.includes('integer') || types.includes('number')) cases.push(invalid(`${name}=abc`, { [name]: 'abc' }, name));
    for (const [label, value] of outOfBounds(prop, marker))
      cases.push(invalid(`${name} = ${label}`, { [name]: String(value) }, name));
    if (isTextField(prop))
      for (const [label, value] of controlCharacters(prop, marker))
        cases.push(invalid(`${name} with ${label}`, { [name]: value }, name));
    if (name === 'cursor')
      cases.push(invalid('a forged cursor', { cursor: Buffer.from('{"pk":{"S":"x"}}').toString('base64url') }, 'cursor'));
    if (name === 'cursor') cases.push(invalid('a garbage cursor', { cursor: 'not-a-cursor' }, 'cursor'));
  }
  return cases;
}

// ---------------------------------------------------------------------------------------------

describe('bad bodies, for every route with a body', () => {
  const withBody = routeTable.filter((r) => r.body);
  it('the route table has routes with bodies', () => expect(withBody.length).toBeGreaterThan(0));

  for (const route of withBody) {
    it(keyOf(route), async () => {
      const marker = uniq('bad');
      const { caller, path, base } = target(route, marker);
      const parsed = route.body!.safeParse(base);
      expect(
        parsed.success,
        `generated base body ${JSON.stringify(base)} is invalid; add it to fixtureBodies (support/routes.ts)`,
      ).toBe(true);
      await runWritingNothing(route.method, path, caller?.token, bodyCases(route, base!, marker), marker);
    });
  }

  it('every text field of a request states what it refuses (a pattern: packages/domain/text-fields.ts)', () => {
    const unchecked: string[] = [];
    for (const route of routeTable) {
      const fields = [
        ...(route.body ? fieldsOf(jsonSchemaOf(route.body)) : []),
        ...Object.entries(route.query ? (jsonSchemaOf(route.query).properties ?? {}) : {}).map(([name, schema]) => ({
          path: [`?${name}`],
          schema,
        })),
      ];
      for (const f of fields)
        if (isTextField(f.schema) && !f.schema.pattern) unchecked.push(`${keyOf(route)} ${f.path.join('.')}`);
    }
    expect(unchecked, 'use line(), trimmedLine(), freeText() or httpUrl()').toEqual([]);
  });

  it('every string and array in a request body is bounded (maxLength/pattern/enum, maxItems)', () => {
    const unbounded: string[] = [];
    for (const route of withBody) {
      for (const f of fieldsOf(jsonSchemaOf(route.body!))) {
        const types = typesOf(f.schema) ?? [];
        const s = f.schema;
        if (types.includes('string') && s.maxLength === undefined && !s.pattern && !s.enum && s.const === undefined)
          unbounded.push(`${keyOf(route)} ${f.path.join('.')}`);
        if (types.includes('array') && arrayish(s).maxItems === undefined)
          unbounded.push(`${keyOf(route)} ${f.path.join('.')}[]`);
      }
    }
    expect(unbounded).toEqual([]);
  });
});

describe('bad query parameters, for every route with a query schema', () => {
  for (const route of routeTable.filter((r) => r.query)) {
    it(keyOf(route), async () => {
      const marker = uniq('badq');
      const { caller, path } = target(route, marker);
      const failures = (
        await mapLimit(queryCases(route, marker), CONCURRENCY, async (c) =>
          verdict(c, await api(route.method, withQuery(path, c.query), { token: caller?.token })),
        )
      ).filter(Boolean);
      expect(failures).toEqual([]);
    });
  }
});

describe('unknown routes and wrong methods', () => {
  it('answers an unknown route with a 404 problem, with or without credentials', async () => {
    // Under /v1 every path is the API's; a GET elsewhere is the web console's (its own test),
    // anything else is the API's 404 too.
    const paths = ['/v1', '/v1/', '/v1/nope', '/v1/health/extra', '/v1/sub-accounts/a/b/c/d', '/', '/v2/health'];
    for (const path of paths) {
      for (const token of [undefined, C.agency.token]) {
        for (const method of path.startsWith('/v1') ? ['GET', 'POST'] : ['POST']) {
          const res = await api(method, path, { token, ...(method === 'POST' ? { body: {} } : {}) });
          expect(res.status, `${method} ${path}`).toBe(404);
          expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
          expect(res.body).toMatchObject({ status: 404, code: 'not_found' });
        }
      }
    }
  });

  it('answers a path with malformed percent-encoding with a 404 problem, not a 500', async () => {
    const res = await api('GET', '/v1/sub-accounts/%E0%A4%A', { token: C.agency.token });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ status: 404, code: 'not_found' });
  });

  it('answers a wrong method on every known path with 405 and an Allow header', async () => {
    const home = C.subs[0]!.subAccountId;
    const paths = [...new Set(routeTable.map((r) => r.path))];
    const failures: string[] = [];
    for (const template of paths) {
      const concrete = fillPath(
        template,
        Object.fromEntries(pathParams(template).map((n) => [n, n === 'agencyId' ? C.agency.agencyId : home])),
      );
      const allowed = new Set(routeTable.filter((r) => pathPattern(r.path).test(concrete)).map((r) => r.method as string));
      for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((m) => !allowed.has(m))) {
        const res = await api(method, concrete, {
          token: C.agency.token,
          headers: { 'idempotency-key': randomUUID() },
          ...(method === 'GET' || method === 'DELETE' ? {} : { body: {} }),
        });
        const allow = new Set(
          (res.headers.get('allow') ?? '')
            .split(',')
            .map((m) => m.trim())
            .filter(Boolean),
        );
        const ok =
          res.status === 405 &&
          res.body?.code === 'method_not_allowed' &&
          res.headers.get('content-type')?.startsWith('application/problem+json') &&
          allow.size === allowed.size &&
          [...allowed].every((m) => allow.has(m));
        if (!ok)
          failures.push(`${method} ${template}: ${res.status} allow=${res.headers.get('allow')} ${res.text.slice(0, 200)}`);
      }
    }
    expect(failures).toEqual([]);
  });
});

describe('the pipeline’s refusals, each named once', () => {
  // The cases above expect these codes from their tables; here each is provoked and named as is.
  const usagePath = () => `/v1/accounts/${C.subs[0]!.subAccountId}/usage`;
  const campaignsPath = () => `/v1/accounts/${C.subs[0]!.subAccountId}/campaigns`;

  it('a money route without an Idempotency-Key: 400 idempotency_key_missing', async () => {
    const res = await api('POST', usagePath(), { token: stack.platformApiKey, body: { type: 'ai_response', quantity: 1 } });
    expect([res.status, res.body.code, res.body.errors?.[0]?.field]).toEqual([400, 'idempotency_key_missing', 'Idempotency-Key']);
  });

  it('a body over 256 KiB: 413 payload_too_large', async () => {
    const res = await api('POST', campaignsPath(), { token: C.agency.token, body: { name: 'x'.repeat(300 * 1024) } });
    expect([res.status, res.body.code]).toEqual([413, 'payload_too_large']);
  });

  it('a body that is not JSON: 415 unsupported_media_type', async () => {
    const res = await api('POST', campaignsPath(), {
      token: C.agency.token,
      rawBody: 'name=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect([res.status, res.body.code]).toEqual([415, 'unsupported_media_type']);
  });

  it('a method the path does not have: 405 method_not_allowed', async () => {
    const res = await api('PUT', '/v1/me', { token: C.agency.token, body: {} });
    expect([res.status, res.body.code, res.headers.get('allow')]).toEqual([405, 'method_not_allowed', 'GET']);
  });
});
