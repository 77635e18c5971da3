/**
 * Fuzz over EVERY route of the route table (routes added later are covered without edits: the
 * requests come from each route's path, query and body schemas). An authorized caller sends
 * random JSON, wrong types, huge numbers, deep nesting, long and odd path parameters, odd query
 * strings and headers, valid requests, and valid ones but for a field at its bound. For every
 * response:
 *  - never a 5xx;
 *  - every response, 2xx included, is what the OpenAPI document declares for its status (the
 *    contract check in `api()`): a 4xx is problem JSON with a declared code;
 *  - a refused call (4xx) wrote nothing — every write DynamoDB accepted from the handlers is
 *    logged (support/write-log.ts), and a refused call's log must be empty, except for what a
 *    money route remembers on purpose: the refusal under its Idempotency-Key (402/409);
 *  - a GET wrote nothing;
 *  - a request the server's validation let through (2xx, or a business refusal after it: 402,
 *    409, 422, a 400 other than invalid_request) is one the document allows: path and query
 *    parameters and body (support/contract.ts checkAcceptedRequest), so a validator looser in
 *    code than in the document fails here;
 *  - and per route, the tenant's items before and after (deep-equal, sorted by key) differ
 *    only where a logged write explains it — a net for writes the log could not see.
 * A quarter of the requests are valid and a quarter valid but for one body field at or just
 * past a bound (support/fuzz.ts), against a tenant made ready for them (support/fuzz-tenant.ts);
 * routes that end a session or change what they name get spares of their own and run last, so
 * every route meets live credentials.
 *
 * The requests go to a gateway started in this process (the same module the stack runs, over
 * the same table), so the handlers' DynamoDB client is this process's and its writes can be
 * logged. Seeded: `FUZZ_SEED` replays a run, `FUZZ_RUNS` sets the runs per route; otherwise CI
 * (the `CI` variable set) runs one fixed seed and a local run a random one (printed).
 */
import { randomInt } from 'node:crypto';
import type { Server } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteDef } from '#http/routes';
import { startGateway } from '#local/gateway';
import { type ApiResponse, api, waitFor } from '../support/api';
import { checkAcceptedRequest } from '../support/contract';
import { type FuzzRequest, requestsFor } from '../support/fuzz';
import { type FuzzTenant, fuzzTenant } from '../support/fuzz-tenant';
import { pipelineIdle } from '../support/pipeline';
import { fixtureBodies, keyOf, pathParams, routeTable, sampleBody } from '../support/routes';
import { type Caller, settleOutbox, tenantItems } from '../support/tenants';
import { type LoggedWrite, startWriteLog } from '../support/write-log';

/**
 * Runs per route: 30 locally (a random seed each time, so local runs keep exploring); 20 in CI,
 * whose fixed seed replays the same requests every time (the first 20 of the 30), and whose
 * 15 minutes the suite's other files need too (still among its longest files: ~100–110 s at 20).
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? (process.env.CI ? 20 : 30));
/** CI's seed: a red build replays from its log alone, and a change of seed is a commit. */
const CI_SEED = 20_240_611;
const SEED = Number(process.env.FUZZ_SEED ?? (process.env.CI ? CI_SEED : randomInt(2 ** 31)));

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
const tenantState = async () => (await tenantItems(F.tenant)).filter((i) => i.kind !== 'webhook_slots');

/** Routes that destroy what they name (or a client's credentials) get spare objects, and run after the others. */
const CREDENTIALS = 'POST /v1/sub-accounts/{subAccountId}/credentials';
const destructive = (r: RouteDef) => r.method === 'DELETE' || keyOf(r) === CREDENTIALS;
/** Routes that end the caller's own session (or every session of its user): callers of their own, last of all. */
const SESSION_ENDING = ['POST /v1/auth/logout', 'POST /v1/assist/exit', 'POST /v1/auth/password'];

/** When a route runs: the others; new credentials for the spare client (before its account closes); deletions; session-ending. */
function order(r: RouteDef): number {
  const key = keyOf(r);
  if (SESSION_ENDING.includes(key)) return 3 + SESSION_ENDING.indexOf(key);
  if (key === CREDENTIALS) return 1;
  return destructive(r) ? 2 : 0;
}

let F: FuzzTenant;
let gateway: { url: string; server: Server };
let writeLog: ReturnType<typeof startWriteLog>;
/** The tenant's items after the last route (each route's "before"). */
let snapshot: Record<string, unknown>[];

beforeAll(async () => {
  console.log(`fuzz: seed ${SEED}, ${RUNS} runs per route (replay: FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS})`);
  F = await fuzzTenant();
  await settleOutbox(F.tenant.agency.agencyId);
  snapshot = await tenantState();
  gateway = await startGateway(0);
  writeLog = startWriteLog('fuzz-write-log');
}, 180_000);

afterAll(async () => {
  await F?.close();
  writeLog?.stop();
  await new Promise((resolve) => gateway?.server.close(resolve));
});

/** The callers a route allows: sessions of their own for the session-ending routes, the tenant's for the others. */
function allowedCallers(route: RouteDef): Caller[] {
  return F.sessionCallers[keyOf(route)] ?? F.callers.filter((c) => route.allow.includes(c.kind));
}

/** Real values for each path parameter (the home sub-account, its campaign, the agency…). */
function realParams(route: RouteDef): Record<string, string[]> {
  const { tenant, real } = F;
  const [home, spare] = [tenant.subs[0]!.subAccountId, tenant.subs[1]!.subAccountId];
  const key = keyOf(route);
  const changesIt = destructive(route) || key === 'PATCH /v1/sub-accounts/{subAccountId}';
  const sub = changesIt ? spare : key.includes('/credits/grants') ? real.reselling : home;
  return Object.fromEntries(
    pathParams(route.path).map((name) => {
      switch (name) {
        case 'agencyId':
          // A plan or status the fuzz sets would take features or credentials from the routes after it.
          return [name, [key === 'PATCH /v1/admin/agencies/{agencyId}' ? real.spareAgency : tenant.agency.agencyId]];
        case 'subAccountId':
          return [name, [sub]];
        case 'accountId':
          // A campaign is filed under home: any other account names none.
          return [name, key.includes('{campaignId}') ? [home] : [home, tenant.agency.agencyId, real.reselling]];
        case 'campaignId':
          return [name, [destructive(route) ? real.spareCampaign : real.campaign]];
        case 'apiKeyId':
          return [name, [real.spareKey]];
        case 'deliveryId':
          return [name, [key.includes('{webhookEndpointId}') ? real.failedEventDelivery : real.failedDelivery]];
        case 'webhookEndpointId':
          return [name, [destructive(route) ? real.spareWebhookEndpoint : real.webhookEndpoint]];
        default:
          throw new Error(`${key}: no real ${name} for the fuzz; add one to realParams`);
      }
    }),
  );
}

/** Answers decided after the request passed validation: its body and parameters were accepted. */
const passedValidation = (res: ApiResponse) =>
  (res.status >= 200 && res.status < 300) ||
  [402, 409, 422].includes(res.status) ||
  (res.status === 400 && res.body?.code !== 'invalid_request');

/** What is wrong with one answer, or undefined. */
function verdict(route: RouteDef, req: FuzzRequest, res: ApiResponse, writes: LoggedWrite[]): string | undefined {
  if (res.status >= 500) return `answered ${res.status}: ${res.text.slice(0, 300)}`;
  if (passedValidation(res)) {
    try {
      checkAcceptedRequest({ method: route.method, path: req.path, rawBody: req.rawBody });
    } catch (err) {
      return `answered ${res.status} ${res.body?.code ?? ''}: ${(err as Error).message}`;
    }
  }
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
  const ordered = [...routeTable].sort((a, b) => order(a) - order(b));

  for (const route of ordered) {
    it(keyOf(route), async () => {
      const routeCallers = allowedCallers(route);
      const { tenant } = F;
      const home = tenant.subs[0]!.subAccountId;
      const fixture = {
        ...fixtureBodies[keyOf(route)]?.({ home, agencyId: tenant.agency.agencyId }),
        ...F.fixtures[keyOf(route)],
      };
      const base = route.body ? sampleBody(route, 'fuzz', fixture) : undefined;
      const requests = requestsFor(route, { real: realParams(route), base, fixture, callers: routeCallers.length });
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
      const failed = await fc
        .assert(
          fc.asyncProperty(requests, async (req) => {
            const { res, writes } = await send(req);
            const problem = verdict(route, req, res, writes);
            if (problem) throw new Error(`${route.method} ${req.path.slice(0, 300)}: ${problem}`);
          }),
          { seed: seedFor(route), numRuns: RUNS },
        )
        .then(
          () => undefined,
          (err: unknown) => err,
        );

      // Every write the log saw was judged above; anything else that changed, it did not see.
      // Work this route started in the stack's process finishes there, in the background:
      // webhook deliveries (their attempts, their failure emails) and queued emails (the
      // notifier removes each outbox item). Wait for it in one scan of the tenant's items, the
      // same one that becomes the snapshot, or the next route would be blamed for it.
      // The usage rollups of this route's debits are built from the stream by the stack's own
      // worker (not this process, so not in the log): wait for them too.
      await pipelineIdle();
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
      // A failed route still leaves the snapshot it made, so the next route is not blamed for its writes.
      if (failed) throw failed;
      // A usage rollup is derived from usage entries: its change is explained when this route wrote one.
      const wroteUsage = [...logged].some((k) => k.startsWith('LEDGER#'));
      // An event webhook's delivery is produced from the stream (the detector, in the stack's
      // process) for a change this route made: explained by that change.
      const eventDeliveries = new Set(snapshot.filter((i) => i.kind === 'webhook_delivery' && i.endpointId).map(key));
      const unexplained = changedKeys(before, snapshot).filter(
        (k) => !logged.has(k) && !(wroteUsage && k.startsWith('ROLLUP#')) && !eventDeliveries.has(k),
      );
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
