import fc from 'fast-check';
import { type IdKind, idPrefixes } from '../../packages/core/ids';
import { type ParamName, paramIdKinds } from '../../packages/http/route-def';
import type { RouteDef } from '../../packages/http/routes';
import { jsonSchemaOf, pathParams } from './routes';

/**
 * Generators of hostile requests for one route, from its route-table entry: path parameters,
 * query strings, bodies and headers that have broken parsers, key builders and validators
 * before. Every choice comes from fast-check (never Math.random or the clock), so a seed
 * replays the same requests.
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
  /** How many callers the route may use (indices into the test's list). */
  callers: number;
}

/** Requests for `route`: every part may be hostile, and a valid request comes up now and then. */
export function requestsFor(route: RouteDef, input: RouteFuzzInput): fc.Arbitrary<FuzzRequest> {
  const params = pathParams(route.path);
  const pathArb = fc.tuple(...params.map((name) => pathParam(name, input.real[name] ?? ['x']))).map((values) => {
    let i = 0;
    return route.path.replace(/\{\w+\}/g, () => values[i++] as string);
  });
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
