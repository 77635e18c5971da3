import fc from 'fast-check';
import { type IdKind, idPrefixes } from '#core/ids';
import { type ParamName, paramIdKinds } from '#http/route-def';
import type { RouteDef } from '#http/routes';
import { requestBodySchema, schemaAt } from './contract';
import { type JsonSchema, jsonSchemaOf, pathParams, typesOf } from './routes';

/**
 * Generators of requests for one route, from its route-table entry and the OpenAPI document:
 * hostile path parameters, query strings, bodies and headers that have broken parsers, key
 * builders and validators before; and valid requests, built from the document's schemas, so
 * what the server accepts is exercised too. Every choice comes from fast-check (never
 * Math.random or the clock), so a seed replays the same requests.
 */
export interface FuzzRequest {
  path: string;
  /** The body as sent: JSON or not. */
  rawBody?: string;
  headers: Record<string, string>;
  /** Index into the route's callers (a token), or -1 for none. */
  caller: number;
}

const ID_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const idChar = fc.constantFrom(...ID_ALPHABET.split(''));

/** Strings that have broken things: long, multi-byte, control characters, percent signs, prototype names. */
export function oddString(maxLong: number): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.string({ unit: 'grapheme', maxLength: 30 }),
    fc.string({ unit: 'binary', maxLength: 30 }),
    fc.integer({ min: 1, max: maxLong }).map((n) => 'x'.repeat(n)),
    fc.integer({ min: 1, max: Math.floor(maxLong / 6) }).map((n) => 'é'.repeat(n)),
    fc.constantFrom(
      '',
      ' ',
      '\u0000',
      '\r\n',
      '\u2028',
      '\u202e',
      '%',
      '%00',
      '__proto__',
      'constructor',
      'toString',
      'null',
      'NaN',
      '-0',
      '1e309',
      '0x10',
      '9007199254740993',
      '\ud800',
      '..',
      '<script>',
      "' OR '1'='1",
      '${x}',
      '🚀',
    ),
  );
}

/** encodeURIComponent, except for what it cannot encode (a lone surrogate): then its WTF-8 bytes. */
function encode(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return '%ED%A0%80';
  }
}

/** A value for path parameter `name`: a real one most often, else missing, of another kind, oversize or odd. */
function pathParam(name: string, real: readonly string[]): fc.Arbitrary<string> {
  const kinds = paramIdKinds[name as ParamName] as readonly IdKind[];
  const prefixes = Object.values(idPrefixes);
  const idOf = (prefix: fc.Arbitrary<string>, max: number) =>
    fc.tuple(prefix, fc.string({ unit: idChar, maxLength: max })).map(([p, body]) => `${p}_${body}`);
  return fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...real).map(encode) },
    { weight: 2, arbitrary: idOf(fc.constantFrom(...kinds.map((k) => idPrefixes[k])), 26).map(encode) },
    { weight: 2, arbitrary: idOf(fc.constantFrom(...prefixes), 2500).map(encode) },
    { weight: 2, arbitrary: oddString(2500).map(encode) },
    { weight: 1, arbitrary: fc.constantFrom('%E0%A4%A', '%', '%FF', '%2e%2e', 'a%2Fb', '%C0%AE') },
  );
}

/** Values that have broken query parsing: extreme and impossible dates, numbers out of every range. */
const extremeQueryValue = fc.constantFrom(
  '1',
  '50',
  '200',
  '201',
  '0',
  '-1',
  '1.5',
  '1e400',
  '0x10',
  '2024-02-30',
  '2024-13-01',
  '2024-01-01',
  '2024-01-01T00:00:00.000Z',
  '2024-01-01T00:00:00+14:00',
  '1970-01-01',
  '9999-12-31',
  '+275760-09-13T00:00:00.000Z',
  '275760-09-13',
  '-271821-04-20T00:00:00.000Z',
  '-000001-01-01T00:00:00Z',
  '0001-01-01',
  '1',
  'ai_response',
  'top_up',
);

/** A query string: the route's own parameters (each present or not) and others, valid, odd and extreme values. */
function queryString(route: RouteDef): fc.Arbitrary<string> {
  const schema = route.query ? jsonSchemaOf(route.query) : undefined;
  const value = (name: string) => {
    const enums = (schema?.properties?.[name]?.enum ?? []).map(String);
    return fc.oneof(
      { weight: 3, arbitrary: extremeQueryValue },
      { weight: 2, arbitrary: oddString(600) },
      { weight: 1, arbitrary: fc.oneof(fc.integer().map(String), fc.double().map(String)) },
      { weight: enums.length ? 2 : 0, arbitrary: enums.length ? fc.constantFrom(...enums) : fc.constant('') },
    );
  };
  const names = Object.keys(schema?.properties ?? {});
  const own = fc.tuple(
    ...names.map((name) =>
      fc.option(
        value(name).map((v) => [name, v] as const),
        { freq: 2 },
      ),
    ),
  );
  const others = fc.array(fc.tuple(oddString(40), value('')), { maxLength: 2 });
  const encoded = fc
    .tuple(own, others)
    .map(([mine, more]) => [...mine.filter((p) => p !== null), ...more].map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&'));
  const raw = fc.constantFrom('a', '=', '&&', 'limit', 'limit=', 'limit=%', '%E0%A4%A=1', 'limit=1&limit=2', 'cursor=%00');
  return fc.oneof({ weight: 6, arbitrary: encoded }, { weight: 1, arbitrary: raw });
}

/** JSON number tokens JSON.stringify cannot write: overflow, underflow, beyond 2^53, negative zero. */
const rawNumber = fc.constantFrom(
  '1e400',
  '-1e400',
  '1e308',
  '123456789012345678901234567890',
  '-0',
  '1e-400',
  '1E2',
  '9007199254740993',
);

/** A value of any JSON type, including extremes and deep nesting. */
const wildValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  oddString(6000),
  fc.double({ noNaN: true }),
  fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
  fc.constantFrom(null, true, false, [], {}, 0, -1, 2 ** 31, 2 ** 53),
  fc.integer({ min: 1, max: 2000 }).map((n) => JSON.parse(`${'['.repeat(n)}${']'.repeat(n)}`)),
);

/** A body for `route`: its valid base, the base with one field made wild, or no object at all. */
function body(route: RouteDef, base: Record<string, unknown>): fc.Arbitrary<string> {
  const fields = Object.keys(jsonSchemaOf(route.body!).properties ?? {});
  const field = fields.length ? fc.constantFrom(...fields) : fc.constant('x');
  const json = JSON.stringify(base);
  const withRaw = (f: string, raw: string) => JSON.stringify({ ...base, [f]: '\u0000RAW' }).replace('"\\u0000RAW"', raw);
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant(json) },
    { weight: 6, arbitrary: fc.tuple(field, wildValue).map(([f, v]) => JSON.stringify({ ...base, [f]: v })) },
    { weight: 2, arbitrary: fc.tuple(field, rawNumber).map(([f, n]) => withRaw(f, n)) },
    { weight: 1, arbitrary: fc.tuple(oddString(40), wildValue).map(([k, v]) => withRaw(k, JSON.stringify(v) ?? 'null')) },
    { weight: 1, arbitrary: field.map((f) => JSON.stringify({ ...base, [f]: undefined })) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 5 }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 60_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(field, fc.integer({ min: 1, max: 30_000 }))
        .map(([f, n]) => withRaw(f, `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`)),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.integer({ min: 1, max: 6 }), fc.string({ maxLength: 200 })).map(([n, s]) => json.slice(0, n) + s),
    },
  );
}

const headerText = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 300 });

export interface RouteFuzzInput {
  /** Real values per path parameter: the tenant's own objects, so requests get past the 404s. */
  real: Record<string, readonly string[]>;
  /** A valid body (routes with a body). */
  base?: Record<string, unknown>;
  /** What a body needs beyond its schema (real references, cross-field rules): laid over valid bodies half the time. */
  fixture?: Record<string, unknown>;
  /** How many callers the route may use (indices into the test's list). */
  callers: number;
}

/**
 * Requests for `route`: half with any part hostile; a quarter valid (every part as the document
 * allows); a quarter valid but for one body field at or just past one of its bounds, where a
 * loosened validator lets through what the document refuses.
 */
export function requestsFor(route: RouteDef, input: RouteFuzzInput): fc.Arbitrary<FuzzRequest> {
  const edges = route.body ? [{ weight: 1, arbitrary: validRequests(route, input, { edge: true }) }] : [];
  return fc.oneof(
    { weight: edges.length ? 2 : 3, arbitrary: hostileRequests(route, input) },
    { weight: 1, arbitrary: validRequests(route, input) },
    ...edges,
  );
}

const fillParams = (route: RouteDef, values: readonly string[]) => {
  let i = 0;
  return route.path.replace(/\{\w+\}/g, () => values[i++] as string);
};

function hostileRequests(route: RouteDef, input: RouteFuzzInput): fc.Arbitrary<FuzzRequest> {
  const params = pathParams(route.path);
  const pathArb = fc
    .tuple(...params.map((name) => pathParam(name, input.real[name] ?? ['x'])))
    .map((values) => fillParams(route, values));
  const contentType = fc.oneof(
    { weight: 8, arbitrary: fc.constant('application/json') },
    fc.constantFrom(
      'application/json; charset=utf-8',
      'application/merge-patch+json',
      'APPLICATION/JSON',
      'text/plain',
      'application/x-www-form-urlencoded',
      '*/*',
      '',
    ),
  );
  const accept = fc.constantFrom('application/json', 'text/csv', '*/*', 'text/csv;q=0.5, application/json', 'text/html');
  const idempotencyKey = fc.oneof({ weight: 4, arbitrary: fc.uuid() }, headerText);
  const caller = fc.oneof({ weight: 9, arbitrary: fc.nat({ max: Math.max(0, input.callers - 1) }) }, fc.constant(-1));
  return fc
    .record({
      path: pathArb,
      query: fc.option(queryString(route), { freq: 2 }),
      rawBody: route.body && input.base ? body(route, input.base) : fc.constant(undefined),
      contentType,
      accept,
      idempotencyKey,
      caller: input.callers ? caller : fc.constant(-1),
    })
    .map(({ path, query, rawBody, contentType, accept, idempotencyKey, caller }) => ({
      path: query ? `${path}?${query}` : path,
      rawBody,
      headers: {
        ...(rawBody !== undefined ? { 'content-type': contentType } : {}),
        accept,
        ...(route.idempotent ? { 'idempotency-key': idempotencyKey } : {}),
      },
      caller,
    }));
}

// ---------------------------------------------------------------------------------------------
// Valid requests: the document's schemas, real ids, a caller the route allows, proper headers.

/**
 * A request every part of which the document allows: real path parameters, declared query
 * parameters with valid values (not `cursor`: only the server makes those), a body generated
 * from the request body schema (with the route's fixture laid over it half the time), JSON
 * headers and a fresh Idempotency-Key. The server may still refuse it for business reasons.
 * With `edge`, one body field is at or just past one of its bounds instead.
 */
export function validRequests(route: RouteDef, input: RouteFuzzInput, opts: { edge?: boolean } = {}): fc.Arbitrary<FuzzRequest> {
  const params = pathParams(route.path);
  const path = fc
    .tuple(...params.map((name) => fc.constantFrom(...(input.real[name] ?? ['x']))))
    .map((v) => fillParams(route, v));
  const querySchema = route.query ? jsonSchemaOf(route.query) : undefined;
  const queryNames = Object.keys(querySchema?.properties ?? {}).filter((name) => name !== 'cursor');
  const query = fc
    .tuple(
      ...queryNames.map((name) =>
        fc.option(
          validValue(querySchema!.properties![name]!).map((v) => `${encode(name)}=${encode(String(v))}`),
          { freq: 3 },
        ),
      ),
    )
    .map((pairs) => pairs.filter((p) => p !== null).join('&'));
  const bodySchema = route.body ? requestBodySchema(route.method, route.path) : undefined;
  const edge = bodySchema && opts.edge ? edgeField(bodySchema) : fc.constant({});
  const body = bodySchema
    ? fc
        .tuple(validValue(bodySchema) as fc.Arbitrary<Record<string, unknown>>, fc.boolean(), edge)
        .map(([generated, fixed, edged]) => JSON.stringify({ ...generated, ...(fixed ? input.fixture : {}), ...edged }))
    : fc.constant(undefined);
  return fc
    .record({ path, query, body, key: fc.uuid(), caller: input.callers ? fc.nat({ max: input.callers - 1 }) : fc.constant(-1) })
    .map(({ path, query, body, key, caller }) => ({
      path: query ? `${path}?${query}` : path,
      rawBody: body,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        accept: 'application/json',
        ...(route.idempotent ? { 'idempotency-key': key } : {}),
      },
      caller,
    }));
}

/** Values the schema allows (a `$ref` to a component is followed); numbers lean to their lowest and to zero, so amounts fit a balance. */
export function validValue(schema: JsonSchema): fc.Arbitrary<unknown> {
  const s = schemaAt(schema as Record<string, unknown>) as JsonSchema;
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum?.length) return fc.constantFrom(...s.enum);
  const union = s.anyOf ?? s.oneOf;
  if (union?.length) return fc.oneof(...union.map(validValue));
  if (s.allOf?.length) return validValue(Object.assign({}, ...s.allOf.map((part) => schemaAt(part as Record<string, unknown>))));
  switch (typesOf(s)?.find((t) => t !== 'null') ?? 'null') {
    case 'boolean':
      return fc.boolean();
    case 'integer':
    case 'number': {
      const min = Math.max(s.minimum ?? (s.exclusiveMinimum ?? -1e9 - 1) + 1, Number.MIN_SAFE_INTEGER);
      const max = Math.min(s.maximum ?? (s.exclusiveMaximum ?? 1e9 + 1) - 1, Number.MAX_SAFE_INTEGER);
      const low = Math.min(Math.max(min, -10), max);
      return fc.oneof(
        fc.integer({ min, max: Math.min(max, min + 20) }),
        fc.integer({ min: low, max: Math.min(max, low + 20) }),
        fc.integer({ min, max }),
      );
    }
    case 'array': {
      const minLength = s.minItems ?? 0;
      const maxLength = Math.min(s.maxItems ?? minLength + 3, minLength + 3);
      const items = validValue(s.items ?? {});
      return (s as { uniqueItems?: boolean }).uniqueItems
        ? fc.uniqueArray(items, { minLength, maxLength, selector: (v) => JSON.stringify(v) })
        : fc.array(items, { minLength, maxLength });
    }
    case 'object': {
      if (!s.properties) return fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 });
      const props = Object.fromEntries(Object.entries(s.properties).map(([name, p]) => [name, validValue(p)]));
      return fc.record(props, { requiredKeys: s.required ?? [] });
    }
    case 'string':
      return validString(s);
    default:
      return fc.constant(null);
  }
}

const word = (max: number) => fc.stringMatching(new RegExp(`^[a-z0-9]{1,${max}}$`));

/**
 * A string of the schema's format, pattern and length. URLs name a closed port on 127.0.0.1:
 * nothing leaves the machine. Emails take one plain shape: the email pattern alone admits
 * addresses the document's `email` format refuses (`a@b-.test`), which the server accepts.
 */
function validString(s: JsonSchema): fc.Arbitrary<string> {
  const pattern = s.pattern ? new RegExp(s.pattern, 'u') : undefined;
  const [min, max] = [s.minLength ?? 0, s.maxLength ?? 200];
  const formats: Record<string, fc.Arbitrary<string>> = {
    email: fc.tuple(word(12), word(10)).map(([local, domain]) => `${local}@${domain}.test`),
    uri: word(12).map((p) => `http://127.0.0.1:9/${p}`),
    date: fc
      .date({ min: new Date(0), max: new Date('9999-12-31'), noInvalidDate: true })
      .map((d) => d.toISOString().slice(0, 10)),
    'date-time': fc.date({ min: new Date(0), max: new Date('9999-12-31'), noInvalidDate: true }).map((d) => d.toISOString()),
    uuid: fc.uuid(),
  };
  const raw =
    (s.format ? formats[s.format] : undefined) ??
    (pattern ? fc.stringMatching(pattern) : fc.string({ unit: 'grapheme', maxLength: max }));
  return raw.map((v) => [...v].slice(0, max).join('').padEnd(min, 'x')).filter((v) => !pattern || pattern.test(v));
}

/** One top-level field of the body at or just past one of its bounds: `{ field: value }`. */
function edgeField(bodySchema: JsonSchema): fc.Arbitrary<Record<string, unknown>> {
  const props = (schemaAt(bodySchema as Record<string, unknown>) as JsonSchema).properties ?? {};
  const names = Object.keys(props);
  if (!names.length) return fc.constant({});
  return fc.constantFrom(...names).chain((name) => edgeValue(props[name]!).map((value) => ({ [name]: value })));
}

/** Values at the schema's bounds and just past them: the last allowed and the first refused. */
function edgeValue(schema: JsonSchema): fc.Arbitrary<unknown> {
  const s = schemaAt(schema as Record<string, unknown>) as JsonSchema;
  const union = s.anyOf ?? s.oneOf;
  if (union?.length) return fc.oneof(...union.map(edgeValue));
  const values: unknown[] = [null];
  if (s.enum?.length) values.push(`${String(s.enum[0])}x`, String(s.enum[0]).toUpperCase());
  switch (typesOf(s)?.find((t) => t !== 'null')) {
    case 'integer':
    case 'number': {
      const min = s.minimum ?? s.exclusiveMinimum;
      const max = s.maximum ?? s.exclusiveMaximum;
      values.push(0, -1, 0.5, `${min ?? 1}`);
      if (min !== undefined) values.push(min, min - 1, min - 0.5);
      if (max !== undefined) values.push(max, max + 1);
      break;
    }
    case 'string': {
      const [min, max] = [s.minLength ?? 0, s.maxLength];
      values.push('', 'x'.repeat(min), 1);
      if (min > 0) values.push('x'.repeat(min - 1));
      if (max !== undefined) values.push('x'.repeat(max), 'x'.repeat(max + 1));
      break;
    }
    case 'array': {
      values.push([], {});
      if (s.maxItems !== undefined) return fc.oneof(fc.constantFrom(...values), overfull(s, s.maxItems + 1));
      break;
    }
    case 'object':
      values.push({}, [], { unknownField: 1 });
      break;
    case 'boolean':
      values.push('true', 1);
      break;
  }
  return fc.constantFrom(...values);
}

/** An array of `length` valid items: one past `maxItems`. */
const overfull = (s: JsonSchema, length: number) => fc.array(validValue(s.items ?? {}), { minLength: length, maxLength: length });
