/**
 * Tenant isolation, proved for EVERY route in the route table (routes added later are covered
 * without editing this file: the expectations come from each route's `allow`, `scope` and
 * path parameters).
 *
 * For each authenticated route:
 *  - 401 `unauthenticated` for no/foreign-scheme/garbage credentials, unknown or revoked API
 *    keys, revoked assist tokens, closed sub-accounts' sessions, and JWTs that are expired,
 *    unsigned (`alg: none`), signed with another key or algorithm, or minted for another audience;
 *  - 403 `forbidden` for every principal kind the route does not allow;
 *  - 404 `not_found` for every allowed principal when one path parameter names something it
 *    cannot reach: another agency's account, sub-account or object, a sibling sub-account (for a
 *    client or assist token), an object filed under another account, an id that does not exist;
 *  - positive control for read-only routes: the same callers with their own ids succeed, so the
 *    404s above are caused by the foreign id and nothing else (write routes: write-controls.test.ts).
 * Nothing here succeeds when the code is right, so the matrix writes nothing.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idPrefixes, newId } from '#core/ids';
import type { RouteDef } from '#http/routes';
import { type ApiResponse, api, createSubAccount } from '../support/api';
import { expectStatus } from '../support/ledger';
import { saveEndpoint } from '../support/recharge';
import {
  fillPath,
  fixtureBodies,
  idKindOf,
  keyOf,
  mapLimit,
  missingId,
  paramRole,
  pathParams,
  routeTable,
  sampleBody,
  sampleQuery,
  withQuery,
} from '../support/routes';
import { type Caller, callersOf, createTenant, type TenantFixture } from '../support/tenants';
import { forgeToken, otherSecret, unsignedToken } from '../support/tokens';
import { startReceiver } from '../support/webhook-receiver';

const CONCURRENCY = 8;

let A: TenantFixture;
let B: TenantFixture;
let callers: Caller[];
/** Bad credentials: label → Authorization header (undefined = none). */
let badCredentials: Array<{ label: string; authorization?: string }>;
/** The agencies' payment server stand-in, for the webhook deliveries the matrix names. */
let receiver: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  [A, B, receiver] = await Promise.all([createTenant(2), createTenant(1), startReceiver()]);
  callers = callersOf(A, 'A');

  // Credentials that were valid once: a returned assist token, a revoked API key, a closed client.
  const returned = await api('POST', `/v1/sub-accounts/${A.subs[1]!.subAccountId}/assist`, { token: A.agency.token });
  expect((await api('POST', '/v1/assist/exit', { token: returned.body.token })).status).toBe(204);
  const revokedKey = await api('POST', '/v1/api-keys', { token: A.agency.token, body: { name: 'revoked' } });
  expect((await api('DELETE', `/v1/api-keys/${revokedKey.body.id}`, { token: A.agency.token })).status).toBe(204);
  const closed = await createSubAccount(A.agency.token);
  expect((await api('DELETE', `/v1/sub-accounts/${closed.subAccountId}`, { token: A.agency.token })).status).toBe(204);

  const agencyClaims = {
    userId: A.agency.userId,
    accountId: A.agency.agencyId,
    accountType: 'agency' as const,
    agencyId: A.agency.agencyId,
  };
  const clientClaims = {
    userId: 'usr_x',
    accountId: A.subs[0]!.subAccountId,
    accountType: 'sub_account' as const,
    agencyId: A.agency.agencyId,
  };
  const assistClaims = { ...clientClaims, userId: A.subs[0]!.subAccountId, actorUserId: A.agency.userId };
  const bearer = (t: string) => `Bearer ${t}`;
  badCredentials = [
    { label: 'no Authorization header' },
    { label: 'Basic scheme', authorization: `Basic ${Buffer.from('user:pass').toString('base64')}` },
    { label: 'empty bearer', authorization: 'Bearer ' },
    { label: 'garbage bearer', authorization: bearer('not-a-token') },
    { label: 'unknown API key', authorization: bearer(`ak_${randomBytes(32).toString('base64url')}`) },
    { label: 'revoked API key', authorization: bearer(revokedKey.body.key) },
    { label: 'returned assist token', authorization: bearer(returned.body.token) },
    { label: "closed sub-account's session", authorization: bearer(closed.token) },
    { label: 'expired agency session', authorization: bearer(await forgeToken(agencyClaims, { expiresIn: -3600 })) },
    { label: 'expired client session', authorization: bearer(await forgeToken(clientClaims, { expiresIn: -3600 })) },
    { label: 'alg:none agency token', authorization: bearer(unsignedToken(agencyClaims)) },
    { label: 'alg:none assist token', authorization: bearer(unsignedToken(assistClaims)) },
    {
      label: 'token signed with another secret',
      authorization: bearer(await forgeToken(agencyClaims, { secret: otherSecret() })),
    },
    { label: 'token signed with HS512', authorization: bearer(await forgeToken(agencyClaims, { alg: 'HS512' })) },
    { label: 'token for another audience', authorization: bearer(await forgeToken(agencyClaims, { audience: 'another-api' })) },
    { label: 'token from another issuer', authorization: bearer(await forgeToken(agencyClaims, { issuer: 'someone-else' })) },
  ];
}, 180_000);

afterAll(() => receiver?.close());

// ---------------------------------------------------------------------------------------------
// Objects named by path parameters that are not accounts (apiKeyId, campaignId…): created once
// per parameter name through the route that creates them, under A1, A2 and B1 (or A and B when
// the collection is not account-scoped), or by `madeBy` when no POST on the collection makes
// them. Keyed by the owning account. A parameter the matrix cannot make fails every route that
// names it, so a new kind of id is never checked with missing ids only.

interface ObjectFixtures {
  byOwner: Map<string, string>;
  /** Filed under sub-accounts (so A2's object under A1's path is a mismatch), not under agencies. */
  perAccount: boolean;
}
const objectFixtures = new Map<string, Promise<ObjectFixtures>>();

function objectsFor(param: string): Promise<ObjectFixtures> {
  let found = objectFixtures.get(param);
  if (!found) {
    found = createObjects(param);
    objectFixtures.set(param, found);
  }
  return found;
}

/** Agency-level objects that no POST on their collection creates: how a tenant comes to have one. */
const madeBy: Record<string, (tenant: TenantFixture) => Promise<string>> = {
  // A webhook delivery exists once the agency's auto-recharge endpoint was sent something: a test event.
  deliveryId: async (tenant) => {
    await saveEndpoint(tenant.agency.token, receiver.url);
    const sent = await api('POST', '/v1/reselling/auto-recharge-webhook/test', { token: tenant.agency.token });
    return expectStatus(sent, 202, 'test delivery').body.deliveryId;
  },
};

async function createObjects(param: string): Promise<ObjectFixtures> {
  const make = madeBy[param];
  if (make) {
    const [a, b] = await Promise.all([make(A), make(B)]);
    return {
      byOwner: new Map([
        [A.agency.agencyId, a],
        [B.agency.agencyId, b],
      ]),
      perAccount: false,
    };
  }
  const holder = routeTable.find((r) => r.path.includes(`/{${param}}`));
  const parent = holder?.path.slice(0, holder.path.indexOf(`/{${param}}`));
  const create = routeTable.find((r) => r.method === 'POST' && r.path === parent);
  if (!create) {
    throw new Error(
      `no way to make another agency's ${param} (no POST ${parent}): teach madeBy in isolation.test.ts, or the matrix ` +
        `would check ${holder?.path} with ids that do not exist only`,
    );
  }
  const perAccount = pathParams(create.path).some((n) => paramRole(create, n) !== 'object');
  const owners: Array<{ owner: string; tenant: TenantFixture }> = perAccount
    ? [
        { owner: A.subs[0]!.subAccountId, tenant: A },
        { owner: A.subs[1]!.subAccountId, tenant: A },
        { owner: B.subs[0]!.subAccountId, tenant: B },
      ]
    : [
        { owner: A.agency.agencyId, tenant: A },
        { owner: B.agency.agencyId, tenant: B },
      ];
  const byOwner = new Map<string, string>();
  for (const { owner, tenant } of owners) {
    const caller = callersOf(tenant).find((c) => create.allow.includes(c.kind));
    if (!caller) throw new Error(`no caller can use ${keyOf(create)} to create a ${param}`);
    const values: Record<string, string> = {};
    for (const n of pathParams(create.path)) {
      const role = paramRole(create, n);
      values[n] =
        role === 'object'
          ? ((await objectsFor(n)).byOwner.get(owner) ?? missingId(n))
          : n === 'agencyId'
            ? tenant.agency.agencyId
            : owner;
    }
    const home = perAccount ? owner : caller.home;
    const body = create.body
      ? { ...sampleBody(create, 'iso'), ...fixtureBodies[keyOf(create)]?.({ home, agencyId: tenant.agency.agencyId }) }
      : undefined;
    const res = await api('POST', fillPath(create.path, values), {
      token: caller.token,
      body,
      headers: { 'idempotency-key': randomUUID() },
    });
    if (res.status >= 300) throw new Error(`fixture: ${keyOf(create)} as ${caller.label} → ${res.status} ${res.text}`);
    const id = findId(res.body, idKindOf(param));
    if (!id) throw new Error(`fixture: no ${param} in the answer of ${keyOf(create)}: ${res.text}`);
    byOwner.set(owner, id);
  }
  return { byOwner, perAccount };
}

/** The first `id` in a response (breadth first), with the id kind's prefix when known. */
function findId(body: unknown, kind: ReturnType<typeof idKindOf>): string | undefined {
  const prefix = kind ? `${idPrefixes[kind]}_` : '';
  const queue: unknown[] = [body];
  while (queue.length) {
    const v = queue.shift();
    if (!v || typeof v !== 'object') continue;
    const id = (v as { id?: unknown }).id;
    if (!Array.isArray(v) && typeof id === 'string' && id.startsWith(prefix)) return id;
    queue.push(...Object.values(v));
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The matrix.

interface Case {
  label: string;
  path: string;
  /** The caller's sub-account, for bodies that reference one. */
  home: string;
  authorization?: string;
  expect: { status: number; code: string } | 'let through';
}

const isAgencyKind = (c: Caller) => c.kind === 'agency_user' || c.kind === 'api_key';
const sub1 = () => A.subs[0]!.subAccountId;
const sub2 = () => A.subs[1]!.subAccountId;
const siblingOf = (home: string) => (home === sub1() ? sub2() : sub1());

async function ownValues(route: RouteDef, caller: Caller): Promise<Record<string, string>> {
  const values: Record<string, string> = {};
  for (const name of pathParams(route.path)) {
    const role = paramRole(route, name);
    if (role === 'object') {
      const { byOwner } = await objectsFor(name);
      values[name] = byOwner.get(caller.home) ?? byOwner.get(caller.agencyId) ?? missingId(name);
    } else {
      values[name] = name === 'agencyId' ? caller.agencyId : caller.home;
    }
  }
  return values;
}

/** Values of `name` this caller must not reach, each with why. */
async function unreachable(route: RouteDef, caller: Caller, name: string): Promise<Array<[string, string]>> {
  const role = paramRole(route, name);
  const bAgency = B.agency.agencyId;
  const b1 = B.subs[0]!.subAccountId;
  const aAgency = A.agency.agencyId;
  if (role === 'object') {
    const { byOwner, perAccount } = await objectsFor(name);
    const out: Array<[string, string]> = [[missingId(name), 'an id that does not exist']];
    if (caller.kind !== 'platform' || perAccount) {
      const foreign = byOwner.get(b1) ?? byOwner.get(bAgency);
      if (!foreign) throw new Error(`no ${name} of agency B's to try on ${keyOf(route)}`);
      out.push([foreign, "agency B's"]);
    }
    const sibling = perAccount ? byOwner.get(siblingOf(caller.home)) : undefined;
    if (sibling) out.push([sibling, 'filed under another sub-account of A']);
    return out;
  }
  if (caller.kind === 'platform') {
    return role === 'subAccount'
      ? [
          [newId('subAccount'), 'a sub-account that does not exist'],
          [aAgency, 'an agency, not a sub-account'],
        ]
      : name === 'agencyId'
        ? [[newId('agency'), 'an agency that does not exist']]
        : [
            [newId('agency'), 'an agency that does not exist'],
            [newId('subAccount'), 'a sub-account that does not exist'],
          ];
  }
  const out: Array<[string, string]> = [[bAgency, 'agency B']];
  if (name !== 'agencyId') out.push([b1, "agency B's sub-account B1"]);
  if (role === 'subAccount') out.push([aAgency, 'its own agency, which is not a sub-account']);
  if (!isAgencyKind(caller) && name !== 'agencyId') {
    out.push([siblingOf(caller.home), 'a sibling sub-account']);
    if (role === 'account') out.push([aAgency, 'its agency']);
  }
  return out;
}

async function casesFor(route: RouteDef): Promise<Case[]> {
  const cases: Case[] = [];
  const agencyUser = callers.find((c) => c.kind === 'agency_user')!;
  const path = fillPath(route.path, await ownValues(route, agencyUser));
  for (const bad of badCredentials) {
    cases.push({
      label: `401 with ${bad.label}`,
      path,
      home: agencyUser.home,
      authorization: bad.authorization,
      expect: { status: 401, code: 'unauthenticated' },
    });
  }
  for (const caller of callers) {
    const own = await ownValues(route, caller);
    const authorization = `Bearer ${caller.token}`;
    const home = caller.home;
    if (!route.allow.includes(caller.kind)) {
      cases.push({
        label: `403 as ${caller.label} (${caller.kind})`,
        path: fillPath(route.path, own),
        home,
        authorization,
        expect: { status: 403, code: 'forbidden' },
      });
      continue;
    }
    if (route.method === 'GET') {
      cases.push({
        label: `let through: ${caller.label} with its own ids`,
        path: fillPath(route.path, own),
        home,
        authorization,
        expect: 'let through',
      });
    }
    for (const name of pathParams(route.path)) {
      for (const [value, why] of await unreachable(route, caller, name)) {
        cases.push({
          label: `404 as ${caller.label}: ${name} = ${why}`,
          path: fillPath(route.path, { ...own, [name]: value }),
          home,
          authorization,
          expect: { status: 404, code: 'not_found' },
        });
      }
    }
  }
  return cases;
}

/** Read routes whose own-id answer may legitimately be 404 (API.md: a wallet in manual mode). */
const MAY_404_FOR_OWN_IDS = new Set([
  'GET /v1/accounts/{accountId}/wallet',
  // Offers exist only for a reselling sub-account (API.md: manual mode → 404).
  'GET /v1/accounts/{accountId}/credit-offers',
  // The agency's auto-recharge endpoint exists only once PUT (the DELETE case may run first).
  'GET /v1/reselling/auto-recharge-webhook',
  'POST /v1/reselling/auto-recharge-webhook/rotate-secret',
  'POST /v1/reselling/auto-recharge-webhook/test',
]);

function verdict(route: RouteDef, c: Case, res: ApiResponse): string | undefined {
  const got = `${res.status} ${res.text.slice(0, 300)}`;
  if (c.expect === 'let through') {
    const ok = res.status < 400 || (res.status === 404 && MAY_404_FOR_OWN_IDS.has(keyOf(route)));
    return ok ? undefined : `${c.label}: expected success, got ${got}`;
  }
  const problems: string[] = [];
  if (res.status !== c.expect.status) problems.push(`status ${res.status}`);
  if (res.body?.code !== c.expect.code) problems.push(`code ${res.body?.code}`);
  if (!res.headers.get('content-type')?.startsWith('application/problem+json'))
    problems.push(`content-type ${res.headers.get('content-type')}`);
  return problems.length ? `${c.label}: expected ${c.expect.status} ${c.expect.code}, got ${got}` : undefined;
}

async function run(route: RouteDef, c: Case): Promise<string | undefined> {
  const headers: Record<string, string> = { 'idempotency-key': randomUUID() };
  if (c.authorization !== undefined) headers.authorization = c.authorization;
  const body = route.body
    ? { ...sampleBody(route, 'iso'), ...fixtureBodies[keyOf(route)]?.({ home: c.home, agencyId: A.agency.agencyId }) }
    : undefined;
  const res = await api(route.method, withQuery(c.path, sampleQuery(route, 'iso')), { headers, body });
  return verdict(route, c, res);
}

const authenticated = routeTable.filter((r) => r.allow.length > 0);

describe('isolation, for every authenticated route in the route table', () => {
  it('the route table has authenticated routes to check', () => {
    expect(authenticated.length).toBeGreaterThan(0);
  });

  for (const route of authenticated) {
    it(keyOf(route), async () => {
      if (route.body) {
        // The generated body must be valid, or a 404 decided after validation would show as 400.
        const sample = {
          ...sampleBody(route, 'iso'),
          ...fixtureBodies[keyOf(route)]?.({ home: sub1(), agencyId: A.agency.agencyId }),
        };
        const parsed = route.body.safeParse(sample);
        expect(
          parsed.success,
          `generated body ${JSON.stringify(sample)} is invalid; add it to fixtureBodies (support/routes.ts)`,
        ).toBe(true);
      }
      const cases = await casesFor(route);
      const failures = (await mapLimit(cases, CONCURRENCY, (c) => run(route, c))).filter(Boolean);
      expect(failures).toEqual([]);
      // The matrix is not vacuous: the whole 401 set, every allowed caller probed with foreign ids,
      // and every object parameter with a real object of agency B's (not only ids that do not exist).
      expect(cases.filter((c) => c.label.startsWith('401')).length).toBe(badCredentials.length);
      for (const caller of callers.filter((c) => route.allow.includes(c.kind))) {
        for (const name of pathParams(route.path)) {
          const foreignObject = paramRole(route, name) === 'object' && caller.kind !== 'platform';
          const label = `404 as ${caller.label}: ${name} = ${foreignObject ? "agency B's" : ''}`;
          expect(
            cases.some((c) => c.label.startsWith(label)),
            label,
          ).toBe(true);
        }
      }
    });
  }

  it('accepts the bearer scheme in any case (RFC 9110), so the 401s above are about the credential', async () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      const res = await api('GET', '/v1/me', { headers: { authorization: `${scheme} ${A.agency.token}` } });
      expect(res.status, scheme).toBe(200);
    }
  });

  it('public routes answer without credentials (never 401/403)', async () => {
    for (const route of routeTable.filter((r) => r.allow.length === 0)) {
      const res = await api(route.method, route.path, route.body ? { body: {} } : {});
      expect([401, 403], `${keyOf(route)} → ${res.status}`).not.toContain(res.status);
    }
  });
});
