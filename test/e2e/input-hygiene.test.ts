/**
 * Input that names nothing or carries what no field should (issue 8):
 *  - a path parameter of any shape but its id's (oversize, another kind, odd characters) is a
 *    404 `not_found`, as for an id that does not exist, on EVERY route with path parameters,
 *    and nothing is written (the reads never happen: DynamoDB would refuse a key over 2048
 *    bytes with a ValidationException, once a 500);
 *  - control characters and CR-LF in names never reach the table or an email; a website is an
 *    http(s) URL; free text keeps its newlines and tabs.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { type IdKind, idPrefixes, newId } from '#core/ids';
import { type ParamName, paramIdKinds } from '#http/route-def';
import type { RouteDef } from '#http/routes';
import { api, uniq, uniqueEmail } from '../support/api';
import { fillPath, keyOf, mapLimit, pathParams, routeTable, sampleBody } from '../support/routes';
import { itemsMentioning } from '../support/table';
import { type Caller, callersOf, createTenant, settleOutbox, type TenantFixture, tenantItems } from '../support/tenants';

let T: TenantFixture;
let callers: Caller[];

beforeAll(async () => {
  T = await createTenant(1);
  callers = callersOf(T, 'T');
  await settleOutbox(T.agency.agencyId);
}, 120_000);

/** Shapes a path parameter of `kinds` may arrive in that are not an id of those kinds. */
function oddIds(kinds: readonly IdKind[]): Array<[string, string]> {
  const prefix = idPrefixes[kinds[0]!];
  const valid = newId(kinds[0]!);
  const otherKind = (Object.keys(idPrefixes) as IdKind[]).find((k) => !kinds.includes(k))!;
  return [
    ['3000 characters', 'a'.repeat(3000)],
    ['1100 characters', 'k'.repeat(1100)],
    [`${prefix}_ and 2100 id characters`, `${prefix}_${'0'.repeat(2100)}`],
    ['the id with 4 KiB of multi-byte characters after it', `${valid}${'é'.repeat(2048)}`],
    ['the id in upper case', valid.toUpperCase()],
    ['the id and a NUL', `${valid}\u0000`],
    ['the id and a newline', `${valid}\n`],
    ['the id one character short', valid.slice(0, -1)],
    ['the prefix alone', `${prefix}_`],
    ['an id of another kind', newId(otherKind)],
    ['unicode', `${prefix}_ünïcödé-🚀`],
    ['a percent sign', '%'],
    ['a space', ' '],
  ];
}

/** The caller, and the values that get `route` past everything but the parameter under test. */
function target(route: RouteDef) {
  const preference = ['agency_user', 'api_key', 'sub_account_user', 'assist', 'platform'];
  const caller = preference.map((k) => callers.find((c) => c.kind === k && route.allow.includes(c.kind))).find(Boolean);
  const real: Record<string, string> = {};
  for (const name of pathParams(route.path)) {
    real[name] = name === 'agencyId' ? T.agency.agencyId : name === 'apiKeyId' ? T.apiKey.id : (caller?.home ?? '');
    if (name === 'campaignId') real[name] = newId('campaign');
    if (name === 'accountId' && caller?.kind === 'platform') real[name] = T.agency.agencyId;
  }
  return { caller, real };
}

describe('path parameters of any other shape are 404, on every route that has them', () => {
  const withParams = routeTable.filter((r) => pathParams(r.path).length > 0);
  it('the route table has routes with path parameters', () => expect(withParams.length).toBeGreaterThan(0));

  for (const route of withParams) {
    it(keyOf(route), async () => {
      const { caller, real } = target(route);
      if (route.allow.length) expect(caller, `a caller for ${keyOf(route)}`).toBeDefined();
      const cases = pathParams(route.path).flatMap((name) =>
        oddIds(paramIdKinds[name as ParamName]).map(([label, value]) => ({ label: `${name} = ${label}`, name, value })),
      );
      const before = await tenantItems(T);
      const failures = (
        await mapLimit(cases, 6, async (c) => {
          const path = fillPath(route.path, { ...real, [c.name]: c.value });
          const body = route.body ? sampleBody(route, uniq('odd')) : undefined;
          const res = await api(route.method, path, { token: caller?.token, body, headers: { 'idempotency-key': randomUUID() } });
          const ok =
            res.status === 404 &&
            res.body?.code === 'not_found' &&
            res.headers.get('content-type')?.startsWith('application/problem+json');
          return ok ? undefined : `${c.label}: ${res.status} ${res.text.slice(0, 200)}`;
        })
      ).filter(Boolean);
      expect(failures).toEqual([]);
      expect(await tenantItems(T), 'the tenant is unchanged').toEqual(before);
    });
  }

  it('answers the reported cases with 404 (they were 500s: keys over 2048 bytes reached DynamoDB)', async () => {
    const token = T.agency.token;
    const reported = [
      ['GET', `/v1/sub-accounts/${'s'.repeat(3000)}`],
      ['DELETE', `/v1/api-keys/${'k'.repeat(1100)}`],
      ['POST', `/v1/accounts/${'a'.repeat(3000)}/campaigns`],
    ] as const;
    for (const [method, path] of reported) {
      const res = await api(method, path, { token, body: method === 'POST' ? { name: 'x' } : undefined });
      expect([method, path.slice(0, 30), res.status, res.body?.code]).toEqual([method, path.slice(0, 30), 404, 'not_found']);
    }
  });
});

describe('text that never reaches the table or an email', () => {
  const create = (body: Record<string, unknown>) => api('POST', '/v1/sub-accounts', { token: T.agency.token, body });

  it.each([
    ['a BEL', 'Bloom\u0007Florists'],
    ['a CR-LF', 'Bloom\r\nBcc: victim@example.test'],
    ['a lone LF', 'Bloom\nFlorists'],
    ['an escape sequence', 'Bloom \u001b[31mred'],
    ['a DEL', 'Bloom\u007f'],
    ['a line separator', 'Bloom\u2028Florists'],
  ])('refuses a sub-account name with %s: 400 naming name, nothing written, no email', async (_, name) => {
    const email = uniqueEmail('ctl');
    const res = await create({ name, email });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalid_request');
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(['name']);
    // No item and no outbox event: the credentials email can never be sent.
    expect(await itemsMentioning(email)).toEqual([]);
  });

  it('refuses an agency name with a CR-LF (it is the subject of every client email)', async () => {
    const res = await api('POST', '/v1/agencies', {
      body: { agencyName: 'Acme\r\nBcc: x@example.test', name: 'Ann', email: uniqueEmail('ctl'), password: 'a-long-password-1' },
    });
    expect([res.status, res.body.errors?.[0]?.field]).toEqual([400, 'agencyName']);
  });

  it.each([
    'javascript:alert(1)',
    'JavaScript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'file:///etc/passwd',
    'ftp://example.test/',
    'https://example.test/\u0007',
    ' https://example.test/',
    'https://example.test/\n',
    '//example.test/',
    'https://',
  ])('refuses website %j: 400 naming website', async (website) => {
    const res = await create({ name: uniq('Web'), email: uniqueEmail('web'), website });
    expect([res.status, res.body.errors?.map((e: { field: string }) => e.field)]).toEqual([400, ['website']]);
  });

  it('keeps an http(s) website exactly as sent', async () => {
    for (const website of ['https://bloom.example.test/shop?x=1#top', 'http://127.0.0.1:8080/']) {
      const res = await create({ name: uniq('Web'), email: uniqueEmail('web'), website });
      expect([res.status, res.body.subAccount?.website]).toEqual([201, website]);
    }
  });

  it('keeps newlines and tabs in free text (campaign instructions and FAQ answers), refuses other controls there', async () => {
    const account = T.subs[0]!.subAccountId;
    const instructions = 'Be brief.\n\tNever promise discounts.\r\nSign as "Bloom".';
    const faqs = [{ question: 'Open on Sundays?', answer: 'Yes:\n\t10:00–16:00' }];
    const created = await api('POST', `/v1/accounts/${account}/campaigns`, {
      token: T.agency.token,
      body: { name: 'Free text', instructions, faqs },
    });
    expect(created.status).toBe(201);
    expect([created.body.campaign.instructions, created.body.campaign.faqs]).toEqual([instructions, faqs]);

    const refused = await api('POST', `/v1/accounts/${account}/campaigns`, {
      token: T.agency.token,
      body: { name: 'Free text', instructions: 'Be brief.\u0000' },
    });
    expect([refused.status, refused.body.errors?.[0]?.field]).toEqual([400, 'instructions']);
    const question = await api('POST', `/v1/accounts/${account}/campaigns`, {
      token: T.agency.token,
      body: { name: 'Free text', faqs: [{ question: 'Two\nlines?', answer: 'no' }] },
    });
    expect([question.status, question.body.errors?.[0]?.field]).toEqual([400, 'faqs.0.question']);
  });
});

describe('time ranges', () => {
  it.each([
    ['from', '275760-09-13'],
    ['to', '+275760-09-13T00:00:00.000Z'],
    ['from', '-000001-01-01T00:00:00Z'],
    ['from', '2024-02-30'],
    ['to', '2024-01-01T10:00'],
    ['from', '1'],
  ])('refuses %s=%s with 400 naming it (the dashboards once answered dates of another format)', async (name, value) => {
    for (const path of ['/v1/credits/usage', `/v1/accounts/${T.subs[0]!.subAccountId}/usage`, '/v1/credits/transactions']) {
      const res = await api('GET', `${path}?${name}=${encodeURIComponent(value)}`, { token: T.agency.token });
      expect([path, res.status, res.body.errors?.[0]?.field]).toEqual([path, 400, name]);
    }
  });
});
