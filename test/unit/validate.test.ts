/**
 * Input validation names the offending field: dotted paths into nested objects and arrays,
 * each unknown key by name, `body` for the body itself; strict JSON parsing refuses anything
 * but an object.
 */

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppError } from '#core/errors';
import { parseJsonBody, parseWith } from '#http/validate';

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

describe("zod's messages in the 400s", () => {
  // The API's schemas use zod/mini, which has no messages of its own (packages/core/zod.ts sets
  // English). Classic zod, which this file imports, installs English for the whole process when
  // it loads, so the check runs in a fresh process that loads only the API's modules.
  it('are the English ones clients read, in a process without classic zod', async () => {
    const script = `
      const { topUpBody, usageBody, transactionsQuery } = await import(${JSON.stringify(new URL('../../packages/domain/ledger/schemas.ts', import.meta.url).href)});
      const { parseWith } = await import(${JSON.stringify(new URL('../../packages/http/validate.ts', import.meta.url).href)});
      const cases = [
        [topUpBody, { credits: 1, reference: 'x'.repeat(201) }, 'body'],
        [topUpBody, { credits: 1 }, 'body'],
        [usageBody, { type: 'nope', quantity: 1 }, 'body'],
        [transactionsQuery, { limit: 'x' }, 'query'],
      ];
      const out = [];
      for (const [schema, input, root] of cases) {
        try { parseWith(schema, input, root); } catch (err) { out.push(...err.errors); }
      }
      console.log(JSON.stringify(out));`;
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--import',
      import.meta.resolve('tsx'),
      '--input-type=module',
      '-e',
      script,
    ]);
    expect(JSON.parse(stdout)).toEqual([
      { field: 'reference', message: 'Too big: expected string to have <=200 characters' },
      { field: 'reference', message: 'Invalid input: expected string, received undefined' },
      { field: 'type', message: 'Invalid option: expected one of "ai_response"|"campaign_message"' },
      { field: 'limit', message: 'Invalid input: expected number, received NaN' },
    ]);
  });
});
