/**
 * Input validation names the offending field: dotted paths into nested objects and arrays,
 * each unknown key by name, `body` for the body itself; strict JSON parsing refuses anything
 * but an object.
 */

import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppError } from '../../packages/core/errors';
import { parseJsonBody, parseWith } from '../../packages/http/validate';

const schema = z.strictObject({
  name: z.string().max(5),
  faqs: z.array(z.strictObject({ q: z.string() })).optional(),
  address: z.strictObject({ city: z.string() }).optional(),
});

function fieldsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('invalid_request');
    return ((err as AppError).errors ?? []).map((e) => e.field);
  }
  throw new Error('did not throw');
}

describe('parseWith', () => {
  it('returns the parsed value when valid', () => {
    expect(parseWith(schema, { name: 'ok' }, 'body')).toEqual({ name: 'ok' });
  });

  it('names nested, array and unknown fields', () => {
    expect(
      fieldsOf(() =>
        parseWith(schema, { name: 'too long', faqs: [{ q: 1 }], address: { city: 'x', zip: 1 }, extra: 1, other: 2 }, 'body'),
      ).sort(),
    ).toEqual(['address.zip', 'extra', 'faqs.0.q', 'name', 'other'].sort());
    expect(fieldsOf(() => parseWith(schema, 'not an object', 'body'))).toEqual(['body']);
    expect(fieldsOf(() => parseWith(z.strictObject({ limit: z.coerce.number().max(2) }), { limit: '9' }, 'query'))).toEqual([
      'limit',
    ]);
  });
});

describe('parseJsonBody', () => {
  it('parses a JSON object, plain or base64', () => {
    expect(parseJsonBody('{"a":1}', false)).toEqual({ a: 1 });
    expect(parseJsonBody(Buffer.from('{"a":1}').toString('base64'), true)).toEqual({ a: 1 });
  });

  it.each([undefined, '', '{', '[]', '[{"a":1}]', '"s"', '1', 'null', 'true'])('refuses %j as the body', (raw) => {
    expect(fieldsOf(() => parseJsonBody(raw, false))).toEqual(['body']);
  });
});
