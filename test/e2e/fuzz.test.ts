/**
 * Fuzz over EVERY route of the route table (routes added later are covered without edits: the
 * requests come from each route's path, query and body schemas). An authorized caller sends
 * random JSON, wrong types, huge numbers, deep nesting, long and odd path parameters, odd query
 * strings and headers, and now and then a valid request. For every response:
 *  - never a 5xx;
 *  - every 4xx is problem JSON with a declared code (the contract check in `api()`);
 *  - a refused call (4xx) wrote nothing — every write DynamoDB accepted from the handlers is
 *    logged (support/write-log.ts), and a refused call's log must be empty, except for what a
 *    money route remembers on purpose: the refusal under its Idempotency-Key (402/409);
 *  - a GET wrote nothing;
 *  - and per route, the tenant's items before and after (deep-equal, sorted by key) differ
 *    only where a logged write explains it — a net for writes the log could not see.
 *
 * The requests go to a gateway started in this process (the same module the stack runs, over
 * the same table), so the handlers' DynamoDB client is this process's and its writes can be
 * logged. Seeded: `FUZZ_SEED` replays a run (the seed is printed), `FUZZ_RUNS` sets the runs
 * per route.
 */
import { randomInt } from 'node:crypto';
import type { Server } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteDef } from '../../packages/http/routes';
import { startGateway } from '../../packages/local/gateway';
import { type ApiResponse, api, waitFor } from '../support/api';
import { type FuzzRequest, requestsFor } from '../support/fuzz';
import { fixtureBodies, keyOf, pathParams, routeTable, sampleBody } from '../support/routes';
import { stack } from '../support/stack';
import type { TenantFixture } from '../support/tenants';
import { type Caller, callersOf, createTenant, settleOutbox, tenantItems } from '../support/tenants';
import { type LoggedWrite, startWriteLog } from '../support/write-log';

const RUNS = Number(process.env.FUZZ_RUNS ?? 30);
const SEED = Number(process.env.FUZZ_SEED ?? randomInt(2 ** 31));

/**
 * What a refused call may write on purpose, per route key (beyond the remembered ledger
 * refusals every money route keeps): partition-key prefixes. A wrong password still counts
 * against the login throttle: that count is the point of it.
 */
const refusedWrites: Record<string, readonly string[]> = {
  'POST /v1/auth/login': ['THROTTLE#'],
};

/**
 * The tenant's items, less the webhook sender's count of the agency's deliveries in flight
 * (`webhook_slots`): the sender takes and gives back a slot in the stack's process for every
 * attempt, so it changes with background work, never because of a route's own write.
 */
const tenantState = async () => (await tenantItems(T)).filter((i) => i.kind !== 'webhook_slots');

/** Routes that destroy what they name get their own objects, and run last, so the others keep theirs. */
const destructive = (r: RouteDef) => r.method === 'DELETE' || r.path === '/v1/assist/exit';

let T: TenantFixture;
let callers: Caller[];
let gateway: { url: string; server: Server };
let writeLog: ReturnType<typeof startWriteLog>;
/** The tenant's items after the last route (each route's "before"). */
let snapshot: Record<string, unknown>[];
/** Real objects of the tenant; `spare*` are for the destructive routes. */
const real = { campaign: '', spareCampaign: '', spareKey: '' };

beforeAll(async () => {
  console.log(`fuzz: seed ${SEED}, ${RUNS} runs per route (replay: FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS})`);
  T = await createTenant(2);
  callers = callersOf(T, 'F');
  const token = T.agency.token;
  const home = T.subs[0]!.subAccountId;
  const campaign = async () =>
    (await api('POST', `/v1/accounts/${home}/campaigns`, { token, body: { name: 'fuzz' } })).body.campaign.id as string;
  real.campaign = await campaign();
  real.spareCampaign = await campaign();
  real.spareKey = (await api('POST', '/v1/api-keys', { token, body: { name: 'spare' } })).body.id;
  const topUp = await api('POST', `/v1/admin/agencies/${T.agency.agencyId}/credits`, {
    token: stack.platformApiKey,
    body: { credits: 1000, reference: 'fuzz' },
    headers: { 'idempotency-key': `fuzz-${T.agency.agencyId}` },
  });
  expect(topUp.status).toBe(201);
  await settleOutbox(T.agency.agencyId);
  snapshot = await tenantState();
  gateway = await startGateway(0);
  writeLog = startWriteLog('fuzz-write-log');
}, 120_000);

afterAll(async () => {
  writeLog?.stop();
  await new Promise((resolve) => gateway?.server.close(resolve));
});

/** The callers a route allows (the assist token only where nothing else is allowed: exit revokes it). */
function allowedCallers(route: RouteDef): Caller[] {
  const allowed = callers.filter((c) => route.allow.includes(c.kind));
  const withoutAssist = allowed.filter((c) => c.kind !== 'assist');
  return withoutAssist.length ? withoutAssist : allowed;
}

/** Real values for each path parameter (the home sub-account, its campaign, the agency…). */
function realParams(route: RouteDef): Record<string, string[]> {
  const [home, spare] = [T.subs[0]!.subAccountId, T.subs[1]!.subAccountId];
  const sub = destructive(route) ? spare : home;
  return Object.fromEntries(
    pathParams(route.path).map((name) => {
      switch (name) {
        case 'agencyId':
          return [name, [T.agency.agencyId]];
        case 'subAccountId':
          return [name, [sub]];
        case 'accountId':
          return [name, [home, T.agency.agencyId]];
        case 'campaignId':
          return [name, [destructive(route) ? real.spareCampaign : real.campaign]];
        case 'apiKeyId':
          return [name, [real.spareKey]];
        default:
          return [name, [T.agency.agencyId]];
      }
    }),
  );
}

/** What is wrong with one answer, or undefined. */
function verdict(route: RouteDef, res: ApiResponse, writes: LoggedWrite[]): string | undefined {
  if (res.status >= 500) return `answered ${res.status}: ${res.text.slice(0, 300)}`;
  if (res.status >= 400) {
    if (!res.headers.get('content-type')?.startsWith('application/problem+json') || typeof res.body?.code !== 'string')
      return `answered ${res.status} without problem JSON: ${res.text.slice(0, 200)}`;
    const remembered = (w: LoggedWrite) => route.idempotent && [402, 409].includes(res.status) && w.kind === 'ledger_refusal';
    const allowed = (w: LoggedWrite) => remembered(w) || refusedWrites[keyOf(route)]?.some((prefix) => w.pk.startsWith(prefix));
    const wrote = writes.filter((w) => !allowed(w));
    if (wrote.length) return `refused (${res.status} ${res.body.code}) but wrote ${JSON.stringify(wrote)}`;
  }
  if (route.method === 'GET' && writes.length) return `a GET wrote ${JSON.stringify(writes)}`;
  return undefined;
}

const key = (item: Record<string, unknown>) => `${item.pk} ${item.sk}`;

/** Keys whose items differ between two snapshots (added, removed or changed). */
function changedKeys(before: Record<string, unknown>[], after: Record<string, unknown>[]): string[] {
  const a = new Map(before.map((i) => [key(i), JSON.stringify(i)]));
  const b = new Map(after.map((i) => [key(i), JSON.stringify(i)]));
  return [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k)).sort();
}

/** A per-route seed, so that adding a route changes no other route's requests. */
function seedFor(route: RouteDef): number {
  let h = SEED >>> 0;
  for (const ch of keyOf(route)) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return h;
}

describe(`fuzz over every route (seed ${SEED})`, () => {
  const ordered = [...routeTable].sort((a, b) => Number(destructive(a)) - Number(destructive(b)));

  for (const route of ordered) {
    it(keyOf(route), async () => {
      const routeCallers = allowedCallers(route);
      const home = T.subs[0]!.subAccountId;
      const base = route.body
        ? sampleBody(route, 'fuzz', fixtureBodies[keyOf(route)]?.({ home, agencyId: T.agency.agencyId }))
        : undefined;
      const requests = requestsFor(route, { real: realParams(route), base, callers: routeCallers.length });
      const logged = new Set<string>();
      const statuses = new Map<number, number>();
      const before = snapshot;
      writeLog.take();

      const send = async (req: FuzzRequest) => {
        const res = await api(route.method, req.path, {
          baseUrl: gateway.url,
          token: routeCallers[req.caller]?.token,
          rawBody: req.rawBody,
          headers: req.headers,
        });
        const writes = writeLog.take();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        for (const w of writes) logged.add(`${w.pk} ${w.sk}`);
        return { res, writes };
      };
      await fc.assert(
        fc.asyncProperty(requests, async (req) => {
          const { res, writes } = await send(req);
          const problem = verdict(route, res, writes);
          if (problem) throw new Error(`${route.method} ${req.path.slice(0, 300)}: ${problem}`);
        }),
        { seed: seedFor(route), numRuns: RUNS },
      );

      // Every write the log saw was judged above; anything else that changed, it did not see.
      // Work this route started in the stack's process finishes there, in the background:
      // webhook deliveries (their attempts, their failure emails) and queued emails (the
      // notifier removes each outbox item). Wait for it in one scan of the tenant's items, the
      // same one that becomes the snapshot, or the next route would be blamed for it.
      const busy = (i: Record<string, unknown>) =>
        i.kind === 'outbox' || (i.kind === 'webhook_delivery' && i.status === 'pending');
      snapshot = await waitFor(
        async () => {
          const items = await tenantState();
          return !items.some(busy) && items;
        },
        30_000,
        'background deliveries and emails settled',
      );
      const unexplained = changedKeys(before, snapshot).filter((k) => !logged.has(k));
      expect(unexplained, 'tenant items changed where no logged write explains it').toEqual([]);
      // Said once per route, so a run shows how deep the requests got (2xx = past validation).
      console.log(
        `fuzz ${keyOf(route)}: ${[...statuses]
          .sort(([a], [b]) => a - b)
          .map(([s, n]) => `${s}×${n}`)
          .join(' ')}`,
      );
    });
  }
});
