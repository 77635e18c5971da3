import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type * as Reads from '#db/read';
import { type AgencyFixture, signUpAgency, uniq } from '../support/api';
import { invoke } from '../support/invoke';
import {
  chargeUsage,
  createSubAccountOnly,
  expectStatus,
  grant,
  ledgerEntries,
  meterItem,
  patchSub,
  poolBalance,
  type StoredEntry,
  sumFor,
  topUp,
  walletBalance,
} from '../support/ledger';
import { stack } from '../support/stack';
import { meterTransactions } from '../support/transaction-meter';

/**
 * A usage batch's debits of one balance go many to a transaction (debit-group.ts), in this
 * test process as in a container of the usage function: the transactions it took are counted
 * (an SDK meter, support/transaction-meter.ts), so a batch debited one by one fails here even when every answer is right.
 * Then what another request does between the batch's read (of its accounts and keys) and its
 * write, made certain by running that request inside the read: a key used (its event replays
 * it or is 409, the group's other debits are charged one by one), the balance moved (the group
 * is tried again), its fence moved for an account switched to reselling (the group goes one by
 * one, that account to its wallet). And a lane: this container's lane of a busy balance takes
 * a group when it holds the sum.
 */
const race = vi.hoisted(() => ({ key: undefined as string | undefined, during: undefined as (() => Promise<void>) | undefined }));
vi.mock('#db/read', async (importOriginal) => {
  const real = await importOriginal<typeof Reads>();
  return {
    ...real,
    getItems: async (list: Parameters<typeof real.getItems>[0]) => {
      const found = await real.getItems(list);
      const during = race.during;
      if (during && list.some((k) => race.key && k.sk.endsWith(`#${race.key}`))) {
        race.during = undefined;
        await during(); // after the read: the batch saw no outcome under the key
      }
      return found;
    },
  };
});

const { handler: usageHandler } = await import('../../functions/http/usage');
const { dynamo } = await import('#db/client');
const transactions = meterTransactions(dynamo);
const { scopeOf } = await import('#domain/ledger/debit-attempt');
const { accountHint } = await import('#domain/ledger/account-hints');
const { forgetBalance } = await import('#domain/ledger/balance-state');
const { noteContention, scopeState } = await import('#domain/ledger/lanes');
const { getLanes } = await import('#db/items/lane');
const { poolKey } = await import('#db/items/balance');
const { getRaw } = await import('../support/table');

const AT = '2026-05-15T12:00:00.000Z';
let agency: AgencyFixture;
let manual: string[];
let limited: string;
let reseller: string;

beforeAll(async () => {
  agency = await signUpAgency('agency');
  const subs = await Promise.all(Array.from({ length: 5 }, () => createSubAccountOnly(agency.token)));
  manual = subs.slice(0, 3);
  [limited, reseller] = subs.slice(3) as [string, string];
  expectStatus(await topUp(agency.agencyId, 100_000, { clock: AT }), 201, 'top-up');
  expectStatus(await patchSub(agency.token, limited, { monthlyCreditLimit: 50_000 }), 200, 'limit');
  expectStatus(await patchSub(agency.token, reseller, { creditMode: 'reselling' }), 200, 'reselling');
  expectStatus(await grant(agency.token, reseller, 10_000), 201, 'grant');
}, 120_000);

const event = (accountId: string, quantity = 1, idempotencyKey = uniq('g')) => ({
  accountId,
  type: 'ai_response' as const,
  quantity,
  idempotencyKey,
});
const send = (events: unknown[]) =>
  invoke(usageHandler, 'POST /v1/usage/batch', { body: { events }, token: stack.platformApiKey, clock: AT });
const statuses = (res: { body: { results: Array<{ status: number }> } }) => res.body.results.map((r) => r.status);

describe('a batch, many debits to a transaction', () => {
  it('debits 300 events of a pool, a limited sub-account and a wallet in 5 transactions, each entry exact', async () => {
    const events = Array.from({ length: 300 }, (_, i) =>
      i % 10 === 0 ? event(limited, 2) : i % 10 === 1 ? event(reseller, 3) : event(manual[i % 3] as string, 1),
    );
    const pool = await poolBalance(agency.agencyId);
    const wallet = await walletBalance(reseller);
    const before = transactions.attempts;
    const res = await send(events);
    expect(res.status).toBe(200);
    expect(new Set(statuses(res))).toEqual(new Set([201]));
    // The pool's 240 + 30 debits (the limited sub-account's are a group of their own, for its
    // meter): 3 + 1 transactions; the wallet's 30: 1.
    expect(transactions.attempts - before).toBe(5);

    const poolDebits = events.filter((e) => e.accountId !== reseller).reduce((n, e) => n + e.quantity, 0);
    expect(await poolBalance(agency.agencyId)).toBe(pool - poolDebits);
    expect(await walletBalance(reseller)).toBe(wallet - 90);
    expect((await meterItem(limited))?.meterPoolUsed).toBe(60);
    const entries = await ledgerEntries(agency.agencyId);
    expect(sumFor(entries, { pool: true })).toBe(await poolBalance(agency.agencyId));
    expect(sumFor(entries, { wallet: reseller })).toBe(await walletBalance(reseller));
    // Each answer is its entry as stored. The pool's running balances are exact: one chain, each
    // the one before less its own debit (the clock stands still here, so entries of two
    // transactions share a millisecond and their ids do not tell which came first).
    const byKey = new Map(entries.map((e) => [e.idempotencyKey, e]));
    res.body.results.forEach((r: { idempotencyKey: string; entry: { id: string; balanceAfter: number } }) =>
      expect(byKey.get(r.idempotencyKey)).toMatchObject({ id: r.entry.id, balanceAfter: r.entry.balanceAfter }),
    );
    const chain = events
      .filter((e) => e.accountId !== reseller)
      .map((e) => byKey.get(e.idempotencyKey) as StoredEntry)
      .sort((a, b) => (b.balanceAfter as number) - (a.balanceAfter as number));
    expect(chain[0]?.balanceAfter).toBe(pool + (chain[0]?.credits as number));
    chain.slice(1).forEach((e, i) => expect(e.balanceAfter).toBe((chain[i]?.balanceAfter as number) + e.credits));
    // Within a transaction, ids follow the order of the events: the history lists them as sent.
    const poolGroup = res.body.results.filter((_: unknown, i: number) => manual.includes(events[i]?.accountId as string));
    const ids = poolGroup.slice(0, 98).map((r: { entry: { id: string } }) => r.entry.id);
    expect(ids).toEqual([...ids].sort());
  });

  it('answers keys used before from their first outcome, without a write', async () => {
    const events = [event(manual[0] as string), event(manual[1] as string, 5), event(reseller, 50_000)];
    const first = await send(events);
    expect(statuses(first)).toEqual([201, 201, 402]);
    const before = transactions.attempts;
    const again = await send(events);
    expect(again.body).toEqual(first.body);
    expect(transactions.attempts - before).toBe(0);
  });
});

describe('a group that must not commit goes one by one', () => {
  it('a key used by another request after the batch read its keys: that event replays it, the others are charged', async () => {
    const contested = event(manual[0] as string, 4);
    const others = [event(manual[1] as string, 1), event(manual[2] as string, 2), event(manual[0] as string, 3)];
    let single: { status: number; body: any } | undefined;
    race.key = contested.idempotencyKey;
    race.during = async () => {
      single = await chargeUsage(
        contested.accountId,
        { type: 'ai_response', quantity: 4 },
        { key: contested.idempotencyKey, clock: AT },
      );
    };
    const pool = await poolBalance(agency.agencyId);
    const cancelled = transactions.conditionFailures;
    const res = await send([others[0], contested, others[1], others[2]]);
    expect(single?.status).toBe(201);
    // The group's transaction was tried and cancelled by the entry's condition, then each debited alone.
    expect(transactions.conditionFailures - cancelled).toBeGreaterThanOrEqual(1);
    expect(statuses(res)).toEqual([201, 201, 201, 201]);
    expect(res.body.results[1].entry).toEqual(single?.body.entry);
    expect(await poolBalance(agency.agencyId)).toBe(pool - (1 + 4 + 2 + 3));
    const entries = await ledgerEntries(agency.agencyId);
    expect(entries.filter((e) => e.idempotencyKey === contested.idempotencyKey)).toHaveLength(1);
    expect(sumFor(entries, { pool: true })).toBe(await poolBalance(agency.agencyId));
  });

  it('the same key used with another body meanwhile: that event is 409, the others are charged', async () => {
    const contested = event(manual[1] as string, 4);
    race.key = contested.idempotencyKey;
    race.during = async () => {
      await chargeUsage(contested.accountId, { type: 'ai_response', quantity: 9 }, { key: contested.idempotencyKey, clock: AT });
    };
    const res = await send([contested, event(manual[2] as string, 1)]);
    expect(statuses(res)).toEqual([409, 201]);
    expect(res.body.results[0].problem.code).toBe('idempotency_key_reused');
  });
});

describe('a balance that moved under the group', () => {
  /** This container has debited the pool just now: it knows the balance (its version and fence). */
  const warm = async () => expect(statuses(await send([event(manual[0] as string, 1)]))).toEqual([201]);

  it('only its version (another debit): the group is tried again as the balance is now', async () => {
    await warm();
    const events = Array.from({ length: 50 }, (_, i) => event(manual[i % 2] as string, 1));
    race.key = events[0]?.idempotencyKey;
    race.during = async () => {
      expectStatus(await chargeUsage(manual[2] as string, { type: 'ai_response', quantity: 7 }, { clock: AT }), 201, 'meanwhile');
    };
    const pool = await poolBalance(agency.agencyId);
    const before = transactions.attempts;
    const res = await send(events);
    expect(new Set(statuses(res))).toEqual(new Set([201]));
    // Cancelled once (the version had moved), then committed: not 50 debits one by one.
    expect(transactions.attempts - before).toBe(2);
    const after = pool - 7 - 50;
    expect(await poolBalance(agency.agencyId)).toBe(after);
    expect(Math.min(...res.body.results.map((r: { entry: { balanceAfter: number } }) => r.entry.balanceAfter))).toBe(after);
  });

  /** A sub-account switched to reselling while the batch runs, after its accounts were read. */
  async function switchedMeanwhile() {
    const switching = await createSubAccountOnly(agency.token);
    const events = [event(manual[0] as string, 1), event(switching, 2), event(manual[1] as string, 3)];
    race.key = events[0]?.idempotencyKey;
    race.during = async () => {
      expectStatus(await patchSub(agency.token, switching, { creditMode: 'reselling' }), 200, 'switch');
    };
    const pool = await poolBalance(agency.agencyId);
    const res = await send(events);
    // Its wallet holds nothing: refused, as a single call to it now is; the pool's debits go on.
    expect(statuses(res)).toEqual([201, 402, 201]);
    expect(res.body.results[1].problem.code).toBe('insufficient_credits');
    expect(await poolBalance(agency.agencyId)).toBe(pool - 4);
  }

  it('its fence (a sub-account of the group switched to reselling): the accounts are read again, that one goes to its wallet', async () => {
    await warm();
    await switchedMeanwhile();
  });

  it('a balance this container reads only after the accounts: they are read again before the group is tried', async () => {
    forgetBalance(poolKey(agency.agencyId));
    await switchedMeanwhile();
  });
});

describe("a busy balance: this container's lane takes a group", () => {
  it('debits the lane once for the group, the balance item not at all', async () => {
    const [account] = manual as [string];
    const scope = scopeOf(account, (await accountHint(account))!);
    // This container met contention on the pool: its next debit claims a lane (lanes.ts).
    for (let i = 0; i < 3; i++) noteContention(scopeState(scope.id));
    const claim = await invoke(usageHandler, 'POST /v1/accounts/{accountId}/usage', {
      params: { accountId: account },
      body: { type: 'ai_response', quantity: 20 },
      headers: { 'idempotency-key': randomUUID() },
      token: stack.platformApiKey,
      clock: AT,
    });
    expect(claim.status).toBe(201);
    const lane = scopeState(scope.id).lane;
    const inLane = lane?.credits ?? 0;
    expect(inLane).toBeGreaterThanOrEqual(10);
    const item = await getRaw(poolKey(agency.agencyId).pk, 'POOL');
    const pool = await poolBalance(agency.agencyId);
    const before = transactions.attempts;

    const res = await send(Array.from({ length: 10 }, () => event(account, 1)));
    expect(new Set(statuses(res))).toEqual(new Set([201]));
    expect(transactions.attempts - before).toBe(1);
    expect(res.body.results.map((r: { entry: { balanceAfter: null } }) => r.entry.balanceAfter)).toEqual(Array(10).fill(null));
    expect(await getRaw(poolKey(agency.agencyId).pk, 'POOL')).toEqual(item);
    const [stored] = (await getLanes(poolKey(agency.agencyId), 64)).filter((l) => l.slot === lane?.slot);
    expect(stored?.credits).toBe(inLane - 10);
    expect(await poolBalance(agency.agencyId)).toBe(pool - 10);
  });
});
