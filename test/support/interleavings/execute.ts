import { randomUUID } from 'node:crypto';
import { poolKey, walletKey } from '#db/items/balance';
import { closeLanes } from '#domain/ledger/lane-close';
import { LEASE_MS } from '#domain/ledger/lanes';
import { applyUsageRecords } from '#domain/ledger/rollups';
import { api } from '../api';
import { type BalanceRef, type Command, type Fault, STACK, type Via, type Who } from './commands';
import { type Harness, type Run, requestContext } from './harness';
import { type Attempt, flowsOf, type MoneyRequest, type Standing, total } from './history';
import type { StreamTail } from './stream';

/** One agency and its three sub-accounts, fresh for each run. */
export interface World {
  agencyId: string;
  agencyToken: string;
  subs: string[];
}

/**
 * Every request of every run runs at this instant (`x-test-clock`): noon mid-month, so one
 * month's meters and rollups hold all of it. Leases and the lanes' rates read the real
 * clock (Date.now, moved only by a sweep: harness.ts).
 */
export const AT = '2026-07-15T12:00:00.000Z';
/** A client gives up after this many 503s in a row (the checks then call it stuck). */
const MAX_TRIES = 8;

interface Spec {
  method: string;
  path: string;
  token: string;
  body?: unknown;
  key?: string;
}

export interface Env {
  harness: Harness;
  run: Run;
  world: World;
  stackUrl: string;
  platformKey: string;
  tail: StreamTail;
}

const specs = new WeakMap<MoneyRequest, Spec>();
const chains = new WeakMap<Run, Map<number, Promise<void>>>();

const accountOf = (w: World, who: Who) => (who === 'agency' ? w.agencyId : (w.subs[who] as string));
export const headOf = (w: World, b: BalanceRef) => (b === 'pool' ? poolKey(w.agencyId) : walletKey(w.subs[b] as string));
export const heads = (w: World) => [poolKey(w.agencyId), ...w.subs.map(walletKey)];

/** Sends a request until it gets an answer other than 503 (a client retrying with the same key), each attempt recorded. */
async function send(e: Env, spec: Spec, label: string, via: Via, retryVia: Via, fault?: Fault): Promise<Attempt[]> {
  const { run } = e;
  const tagId = randomUUID();
  run.tags.set(tagId, { run, label, via, fault: fault && { ...fault } });
  const attempts: Attempt[] = [];
  for (let n = 0; n < MAX_TRIES; n++) {
    const to = run.live(n === 0 ? via : retryVia);
    await run.point(`${label} send#${n} → ${to}`);
    const start = run.history.tick();
    // The stack's gateway goes at its own pace: the scheduler does not wait for it.
    const counted = to !== STACK;
    if (counted) run.busy++;
    const res = await api(spec.method, spec.path, {
      token: spec.token,
      body: spec.body,
      headers: { 'x-model-tag': tagId, ...(spec.key ? { 'idempotency-key': spec.key } : {}) },
      clock: AT,
      baseUrl: e.harness.urlOf(to, e.stackUrl),
    }).finally(() => {
      if (counted) run.busy--;
    });
    attempts.push({
      via: to,
      start,
      end: run.history.tick(),
      status: res.status,
      body: res.body,
      text: res.text,
    });
    if (res.status !== 503) break;
  }
  return attempts;
}

async function money(e: Env, req: Omit<MoneyRequest, 'attempts'>, spec: Spec, via: Via, retryVia: Via, fault?: Fault) {
  const record: MoneyRequest = { ...req, attempts: [] };
  e.run.history.money.push(record);
  specs.set(record, spec);
  record.attempts = await send(e, spec, req.label, via, retryVia, fault);
}

/** Standing changes of one sub-account go one at a time (beside everything else), as one admin would make them. */
function oneAtATime(run: Run, sub: number, fn: () => Promise<void>): Promise<void> {
  const byRun = chains.get(run) ?? new Map<number, Promise<void>>();
  chains.set(run, byRun);
  const next = (byRun.get(sub) ?? Promise.resolve()).then(fn);
  byRun.set(sub, next);
  return next;
}

function change(
  e: Env,
  sub: number,
  label: string,
  spec: Spec,
  apply: (s: Standing) => Standing,
  c: { via: Via; retryVia: Via; fault?: Fault },
) {
  return oneAtATime(e.run, sub, async () => {
    const record = { sub, label, apply, attempts: [] as Attempt[] };
    e.run.history.changes[sub]!.push(record);
    record.attempts = await send(e, spec, label, c.via, c.retryVia, c.fault);
  });
}

/** Work the test does itself (a sweep, a collect, a redelivery), through the same scheduling points and faults. */
async function job(e: Env, label: string, fault: Fault | undefined, fn: () => Promise<unknown>): Promise<void> {
  const { run } = e;
  await run.point(`${label} start`);
  run.busy++;
  try {
    await requestContext.run({ run, label, via: 'sweeper', fault: fault && { ...fault } }, fn);
  } catch (err) {
    // A fault's network error ends the job where it struck (the sweeper runs again next minute); anything else is a finding.
    if ((err as { code?: string }).code !== 'ECONNRESET') run.problems.push(`${label}: ${(err as Error).stack}`);
  } finally {
    run.busy--;
  }
}

/** What a drain takes: everything the account can draw now (all before it has answered), less `leave`. */
function drainQuantity(e: Env, who: Who, leave: number): number {
  const h = e.run.history;
  const flows = flowsOf(h);
  if (who === 'agency') return total(flows, 'pool') - leave;
  const s = h.settledStanding(who);
  if (s.closed) return 1;
  if (s.mode === 'reselling') return total(flows, who) - leave;
  const pool = total(flows, 'pool');
  if (s.limit === null) return pool - leave;
  // The limit counts at most every pool debit of the sub-account: what is left of it is at least this.
  const used = h.money
    .filter((m) => m.op === 'usage' && m.who === who)
    .flatMap((m) => flows.filter((f) => f.key === m.key && f.balance === 'pool'))
    .reduce((n, f) => n - f.delta, 0);
  return Math.min(pool, s.limit - used) - leave;
}

export async function execute(e: Env, cmd: Command, label: string): Promise<void> {
  const { run, world: w } = e;
  const key = `${w.agencyId}-${label}`;
  switch (cmd.kind) {
    case 'debit':
    case 'drain': {
      const quantity = cmd.kind === 'debit' ? cmd.quantity : drainQuantity(e, cmd.who, cmd.leave);
      if (quantity < 1) return;
      const type = cmd.kind === 'debit' ? cmd.type : 'ai_response';
      const spec = {
        method: 'POST',
        path: `/v1/accounts/${accountOf(w, cmd.who)}/usage`,
        token: e.platformKey,
        body: { type, quantity, contactId: `c-${label}` },
        key,
      };
      return money(e, { op: 'usage', key, who: cmd.who, credits: quantity, label }, spec, cmd.via, cmd.retryVia, cmd.fault);
    }
    case 'topUp': {
      const spec = {
        method: 'POST',
        path: `/v1/admin/agencies/${w.agencyId}/credits`,
        token: e.platformKey,
        body: { credits: cmd.credits, reference: `r-${label}` },
        key,
      };
      return money(e, { op: 'topUp', key, who: 'agency', credits: cmd.credits, label }, spec, cmd.via, cmd.retryVia, cmd.fault);
    }
    case 'grant': {
      const spec = {
        method: 'POST',
        path: `/v1/sub-accounts/${w.subs[cmd.sub]}/credits/grants`,
        token: w.agencyToken,
        body: { credits: cmd.credits },
        key,
      };
      return money(e, { op: 'grant', key, who: cmd.sub, credits: cmd.credits, label }, spec, cmd.via, cmd.retryVia, cmd.fault);
    }
    case 'replay': {
      const earlier = run.history.money;
      if (earlier.length === 0) return;
      const first = earlier[cmd.pick % earlier.length] as MoneyRequest;
      const spec = specs.get(first) as Spec;
      return money(e, { ...first, label: `${label} (replay of ${first.label})` }, spec, cmd.via, cmd.via);
    }
    case 'limit':
    case 'mode': {
      const body = cmd.kind === 'limit' ? { monthlyCreditLimit: cmd.limit } : { creditMode: cmd.mode };
      const apply = (s: Standing): Standing => (cmd.kind === 'limit' ? { ...s, limit: cmd.limit } : { ...s, mode: cmd.mode });
      const spec = { method: 'PATCH', path: `/v1/sub-accounts/${w.subs[cmd.sub]}`, token: w.agencyToken, body };
      return change(e, cmd.sub, label, spec, apply, cmd);
    }
    case 'close': {
      const spec = { method: 'DELETE', path: `/v1/sub-accounts/${w.subs[cmd.sub]}`, token: w.agencyToken };
      return change(e, cmd.sub, label, spec, (s) => ({ ...s, closed: true }), cmd);
    }
    case 'read': {
      const path = cmd.balance === 'pool' ? '/v1/credits/balance' : `/v1/accounts/${w.subs[cmd.balance]}/wallet`;
      const record = { balance: cmd.balance, label, attempts: [] as Attempt[] };
      run.history.reads.push(record);
      record.attempts = await send(e, { method: 'GET', path, token: w.agencyToken }, label, cmd.via, cmd.via);
      return;
    }
    case 'collect':
      return job(e, label, cmd.fault, () => closeLanes(headOf(w, cmd.balance)));
    case 'sweep':
      // A minute passes (every lease runs out), then the sweeper's pass over each balance of the agency.
      e.harness.expireLeases(LEASE_MS + 1000);
      return job(e, label, cmd.fault, async () => {
        for (const head of heads(w)) await closeLanes(head, { idleOnly: true });
      });
    case 'redeliver':
      return job(e, label, undefined, async () => {
        await e.tail.read(new Set([w.agencyId]));
        for (const [shard, records] of e.tail.batches(w.agencyId)) {
          // As Lambda hands a batch again after a failure: whole, then bisected.
          await applyUsageRecords(shard, records);
          const half = Math.ceil(records.length / 2);
          await applyUsageRecords(shard, records.slice(0, half));
          await applyUsageRecords(shard, records.slice(half));
        }
      });
  }
}
