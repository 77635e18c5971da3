/**
 * Pagination cursors are opaque and round-trip DynamoDB keys, and anything that is not a cursor
 * the API could have returned is a 400 naming `cursor` (never a 500, never a smuggled value).
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '#core/errors';
import { decodeCursor, encodeCursor } from '#db/cursor';

const b64 = (s: string) => Buffer.from(s).toString('base64url');

describe('cursor', () => {
  it('round-trips a last evaluated key', () => {
    const key = { pk: 'AGENCY#agc_1#SUBS', sk: 'x', gsi1pk: 'AGENCY#agc_1#SUBS', gsi1sk: 'sub_1' };
    const cursor = encodeCursor(key)!;
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual(key);
    expect(encodeCursor(undefined)).toBeNull();
    expect(decodeCursor(undefined)).toBeUndefined();
    expect(decodeCursor('')).toBeUndefined();
  });

  it.each([
    ['not base64 JSON', 'not-a-cursor!!'],
    ['base64 of text', b64('hello')],
    ['a JSON array', b64('["pk","sk"]')],
    ['JSON null', b64('null')],
    ['a JSON string', b64('"pk"')],
    ['an empty object', b64('{}')],
    ['a non-string value', b64('{"pk":1}')],
    ['a DynamoDB-typed value', b64('{"pk":{"S":"x"}}')],
    ['too many keys', b64(JSON.stringify(Object.fromEntries(Array.from({ length: 7 }, (_, i) => [`k${i}`, 'v']))))],
    ['an overlong value', b64(JSON.stringify({ pk: 'x'.repeat(600) }))],
  ])('rejects %s', (_label, cursor) => {
    let err: unknown;
    try {
      decodeCursor(cursor);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'invalid_request', status: 400, errors: [{ field: 'cursor' }] });
  });
});
