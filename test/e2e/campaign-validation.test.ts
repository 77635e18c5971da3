import { beforeAll, describe, expect, it } from 'vitest';
import { type AgencyFixture, api, signUpAgency } from '../support/api';
import { campaignItemsIn, nested } from '../support/campaigns';

describe('campaign input validation', () => {
  let agency: AgencyFixture;
  let base: string;
  let existing: { id: string; name: string };

  beforeAll(async () => {
    agency = await signUpAgency('agency');
    base = `/v1/accounts/${agency.agencyId}/campaigns`;
    existing = (await api('POST', base, { token: agency.token, body: { name: 'Keep me' } })).body.campaign;
  });

  const faqs = (n: number) => Array.from({ length: n }, (_, i) => ({ question: `q${i}`, answer: `a${i}` }));

  // [label, body, the field the 400 must name]
  const badCreates: Array<[string, unknown, string]> = [
    ['missing name', { instructions: 'x' }, 'name'],
    ['blank name', { name: '   ' }, 'name'],
    ['name too long', { name: 'n'.repeat(121) }, 'name'],
    ['unknown field', { name: 'ok', budget: 5 }, 'budget'],
    ['unknown FAQ field', { name: 'ok', faqs: [{ question: 'q', answer: 'a', extra: 1 }] }, 'faqs.0.extra'],
    ['name not a string', { name: 42 }, 'name'],
    ['settings an array', { name: 'ok', settings: [1, 2] }, 'settings'],
    ['settings a string', { name: 'ok', settings: '{}' }, 'settings'],
    ['configuration null', { name: 'ok', configuration: null }, 'configuration'],
    ['faqs not an array', { name: 'ok', faqs: { question: 'q', answer: 'a' } }, 'faqs'],
    ['FAQ without answer', { name: 'ok', faqs: [{ question: 'q' }] }, 'faqs.0.answer'],
    ['instructions a number', { name: 'ok', instructions: 7 }, 'instructions'],
    ['configuration 9 levels deep', { name: 'ok', configuration: nested(9) }, 'configuration'],
    ['settings 9 levels deep via arrays', { name: 'ok', settings: { a: [[[[[[[{ b: 1 }]]]]]]] } }, 'settings'],
    ['configuration over 32 KiB', { name: 'ok', configuration: { blob: 'x'.repeat(33 * 1024) } }, 'configuration'],
    ['instructions over 20 000 chars', { name: 'ok', instructions: 'i'.repeat(20_001) }, 'instructions'],
    ['question over 500 chars', { name: 'ok', faqs: [{ question: 'q'.repeat(501), answer: 'a' }] }, 'faqs.0.question'],
    ['answer over 5000 chars', { name: 'ok', faqs: [...faqs(3), { question: 'q', answer: 'a'.repeat(5001) }] }, 'faqs.3.answer'],
    ['101 FAQs', { name: 'ok', faqs: faqs(101) }, 'faqs'],
    [
      'whole campaign over 128 KiB',
      { name: 'ok', faqs: Array.from({ length: 30 }, () => ({ question: 'q', answer: 'a'.repeat(5000) })) },
      'body',
    ],
  ];

  it.each(badCreates)('create: %s → 400 naming the field, nothing written', async (_label, body, field) => {
    const res = await api('POST', base, { token: agency.token, body });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body.code).toBe('invalid_request');
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(res.body.detail).toContain(field);
    expect((await campaignItemsIn(agency.agencyId)).map((i) => i.id)).toEqual([existing.id]);
  });

  it('accepts exactly the limits', async () => {
    const res = await api('POST', base, {
      token: agency.token,
      body: {
        name: 'n'.repeat(120),
        instructions: 'i'.repeat(20_000),
        faqs: faqs(100),
        configuration: nested(8),
        settings: { blob: 'x'.repeat(32 * 1024 - 20) },
      },
    });
    expect(res.status).toBe(201);
    expect(res.body.campaign.configuration).toEqual(nested(8));
    expect((await api('DELETE', `${base}/${res.body.campaign.id}`, { token: agency.token })).status).toBe(204);
  });

  it('rejects malformed JSON and a non-object body', async () => {
    for (const rawBody of ['{"name":', '[]', '"name"']) {
      const res = await api('POST', base, { token: agency.token, rawBody });
      expect(res.status).toBe(400);
      expect(res.body.errors[0].field).toBe('body');
    }
    const numbers = await api('POST', base, { token: agency.token, rawBody: '{"name":"ok","settings":{"huge":1e400}}' });
    expect(numbers.status).toBe(400);
    expect(numbers.body.errors[0].field).toBe('settings');
    expect((await campaignItemsIn(agency.agencyId)).map((i) => i.id)).toEqual([existing.id]);
  });

  const badPatches: Array<[string, unknown, string]> = [
    ['empty body', {}, 'body'],
    ['unknown field', { name: 'ok', id: 'cmp_x' }, 'id'],
    ['accountId is not patchable', { accountId: 'agc_x' }, 'accountId'],
    ['name null', { name: null }, 'name'],
    ['configuration too deep', { configuration: nested(9) }, 'configuration'],
    ['101 FAQs', { faqs: faqs(101) }, 'faqs'],
  ];

  it.each(badPatches)('patch: %s → 400 naming the field, nothing changed', async (_label, body, field) => {
    const res = await api('PATCH', `${base}/${existing.id}`, { token: agency.token, body });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect((await api('GET', `${base}/${existing.id}`, { token: agency.token })).body.campaign).toEqual(existing);
  });

  it('refuses a patch that would make the whole campaign too large', async () => {
    const half = Array.from({ length: 14 }, () => ({ question: 'q', answer: 'a'.repeat(5000) }));
    expect((await api('PATCH', `${base}/${existing.id}`, { token: agency.token, body: { faqs: half } })).status).toBe(200);
    const res = await api('PATCH', `${base}/${existing.id}`, {
      token: agency.token,
      body: {
        instructions: 'i'.repeat(20_000),
        settings: { blob: 'x'.repeat(30_000) },
        configuration: { blob: 'y'.repeat(30_000) },
      },
    });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].field).toBe('body');
    expect((await api('GET', `${base}/${existing.id}`, { token: agency.token })).body.campaign.instructions).toBe('');
  });
});
