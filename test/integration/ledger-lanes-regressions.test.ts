/**
 * Lanes (packages/domain/ledger/lanes.ts) in the states the interleavings model
 * (ledger-interleavings.test.ts) found them mishandled, each set up directly: a lane opened
 * with the same transaction a container's claim writes (less its debit), so no luck of timing
 * is needed; then the real handlers, over HTTP (the stack's gateway, one container) or in this
 * process (another container: support/invoke.ts), with a network error injected into this
 * process's DynamoDB client where a failure between two writes is the point.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { InitializeMiddleware } from '@smithy/types';
import { describe, expect, it } from 'vitest';
import { db, dynamo } from '#db/client';
import { fundLane, getBalance, LEGACY_LANE_HEADS, poolKey, walletKey } from '#db/items/balance';
import { AHEAD, CLOSING, claimLane, getLanes, type LaneItem } from '#db/items/lane';
import { laneHeadKey, laneHeadShape, listLaneHead } from '#db/items/lane-head';
import { chargeMeter } from '#db/items/meter';
import { getItem, itemId } from '#db/read';
import { itemKinds, type Key } from '#db/schema';
import { ConditionsFailed, type NamedItem, transact } from '#db/transact';
import { CLOSE_BATCH, closeLanes } from '#domain/ledger/lane-close';
import { containerId, listedLaneHeads, scopeState } from '#domain/ledger/lanes';
import { handler as subAccountsHandler } from '../../functions/http/sub-accounts';
import { handler as usageHandler } from '../../functions/http/usage';
import { api, signUpAgency, uniq } from '../support/api';
import { invoke } from '../support/invoke';
import {
  chargeUsage,
  createSubAccountOnly,
  expectStatus,
  grant,
  meterItem,
  patchSub,
  poolBalance,
  topUp,
} from '../support/ledger';
import { pipelineIdle } from '../support/pipeline';
import { stack } from '../support/stack';

const AT = '2026-07-15T12:00:00.000Z';
const MONTH = AT.slice(0, 7);

/** Every lane of the balance now. */
const lanesOf = async (head: Key) => getLanes(head, (await getBalance(head))?.laneSlots ?? 0);

/** A lane of `credits` (and, for `L…`, as much allowance charged to the sub-account's meter) in the balance's next slot, as a claim opens it. */
async function openLane(head: Key, agencyId: string, scope: string, credits: number, owner = 'another-container', month = MONTH) {
  const item = await getBalance(head);
  const slot = item?.laneSlots ?? 0;
  const limited = scope.startsWith('L');
  const lane: LaneItem = {
    kind: itemKinds.lane,
    agencyId,
    headPk: head.pk,
    headSk: head.sk,
    slot,
    scope,
    credits,
    spent: 0,
    ...(limited ? { allowance: credits, month } : {}),
    owner,
    leaseUntil: Date.now() + 60_000,
    fence: item?.fence ?? 0,
  };
  const meter: NamedItem[] = limited ? chargeMeter({ accountId: scope.slice(1), seenMonth: month, month, credits }) : [];
  await transact([
    {
      name: 'head',
      write: fundLane({ key: head, credits, fence: lane.fence, opens: { newSlotAfter: slot }, at: AT, nowMs: Date.now() }),
    },
    { name: 'lane', write: claimLane(lane) },
    { name: 'listed', write: listLaneHead(head, AT) },
    ...meter,
  ]);
  return lane;
}

async function agencyWithSubs(n: number, pool: number) {
  const agency = await signUpAgency('agency');
  const subs = await Promise.all(Array.from({ length: n }, () => createSubAccountOnly(agency.token)));
  expectStatus(await topUp(agency.agencyId, pool, { clock: AT }), 201, 'top-up');
  return { agencyId: agency.agencyId, token: agency.token, subs };
}

type Middleware = InitializeMiddleware<any, any>;

/** Runs `fn` with `middleware` on this process's DynamoDB client (the handlers' client too), removed after. */
async function withMiddleware<T>(middleware: Middleware, fn: () => Promise<T>): Promise<T> {
  const name = uniq('middleware');
  dynamo.middlewareStack.add(middleware, { step: 'initialize', name });
  try {
    return await fn();
  } finally {
    dynamo.middlewareStack.remove(name);
  }
}

/** A network error on the first call of this process's DynamoDB client that `matches`, after DynamoDB applied it. */
async function losingTheAnswerTo<T>(matches: (command: string, input: any) => boolean, fn: () => Promise<T>): Promise<T> {
  let struck = false;
  const losing: Middleware = (next, context) => async (args) => {
    const out = await next(args);
    if (!struck && matches(context.commandName ?? '', args.input)) {
      struck = true;
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET', $metadata: {} });
    }
    return out;
  };
  try {
    return await withMiddleware(losing, fn);
  } finally {
    expect(struck, 'the fault struck').toBe(true);
  }
}

/** A network error instead of the first call of this process's DynamoDB client that `matches`: it never reaches DynamoDB. */
async function failingBefore<T>(matches: (command: string, input: any) => boolean, fn: () => Promise<T>): Promise<T> {
  let struck = false;
  const failing: Middleware = (next, context) => async (args) => {
    if (!struck && matches(context.commandName ?? '', args.input)) {
      struck = true;
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET', $metadata: {} });
    }
    return next(args);
  };
  try {
    return await withMiddleware(failing, fn);
  } finally {
    expect(struck, 'the fault struck').toBe(true);
  }
}

/** A debit by this process: another container than the stack's gateway. */
const debitInThisProcess = (accountId: string, idempotencyKey: string, quantity = 1) =>
  invoke(usageHandler, 'POST /v1/accounts/{accountId}/usage', {
    params: { accountId },
    token: stack.platformApiKey,
    headers: { 'idempotency-key': idempotencyKey },
    body: { type: 'ai_response', quantity },
    clock: AT,
  });

/**
 * A sub-account with this monthly limit, of an agency whose pool is busy: another container's
 * lane and one of this process's (claimed by a debit of another sub-account) are open.
 */
async function busyPoolAndLimitedSub(monthlyCreditLimit: number) {
  const a = await agencyWithSubs(2, 500);
  const [manual, limited] = a.subs as [string, string];
  const head = poolKey(a.agencyId);
  expectStatus(await patchSub(a.token, limited, { monthlyCreditLimit }), 200, 'limit');
  await openLane(head, a.agencyId, 'P', 50);
  expect((await debitInThisProcess(manual, uniq('manual'))).status).toBe(201);
  return { limited, head };
}

/**
 * This process's next TransactWriteItems cancelled for a conflict on the item `conflicted` picks
 * (DynamoDB Local never raises one), as AWS answers it: that item `TransactionConflict`, the
 * others `None`. Returns what each transaction sent meanwhile was.
 */
async function conflictingOnce(conflicted: (items: any[]) => number, fn: () => Promise<unknown>): Promise<string[]> {
  const transactions: string[] = [];
  const conflicting: Middleware = (next, context) => async (args) => {
    if (context.commandName !== 'TransactWriteItemsCommand') return next(args);
    const items = (args.input as { TransactItems: any[] }).TransactItems;
    transactions.push(transactions.length === 0 ? 'conflicted' : 'sent');
    if (transactions.length > 1) return next(args);
    const at = conflicted(items);
    throw new TransactionCanceledException({
      message: 'Transaction cancelled',
      $metadata: {},
      CancellationReasons: items.map((_, i) => ({ Code: i === at ? 'TransactionConflict' : 'None' })),
    });
  };
  await withMiddleware(conflicting, fn);
  return transactions;
}

/** The DynamoDB calls this process makes while `fn` runs, by command name (a read of a pool item as `read POOL`). */
async function callsOfThisProcess(fn: () => Promise<unknown>): Promise<string[]> {
  const calls: string[] = [];
  const counting: Middleware = (next, context) => async (args) => {
    const input = args.input as { Key?: { sk?: unknown } };
    const sk = (input.Key?.sk as { S?: string } | undefined)?.S ?? input.Key?.sk;
    calls.push(
      /^Get(Item)?Command$/.test(context.commandName ?? '') && sk === 'POOL' ? 'read POOL' : (context.commandName ?? ''),
    );
    return next(args);
  };
  await withMiddleware(counting, fn);
  return calls;
}

/** The account's own write (a PATCH's or a close's), its key plain or marshalled. */
const updatesAccount = (update: any) => [update?.Key?.sk, update?.Key?.sk?.S].includes('ACCOUNT');
/** The account's own write: alone, or (since the audit log) in a transaction with its audit record. */
const isAccountWrite = (command: string, input: any) =>
  (command === 'UpdateItemCommand' && updatesAccount(input)) ||
  (command === 'TransactWriteItemsCommand' && (input.TransactItems ?? []).some((i: any) => updatesAccount(i.Update)));

describe('lanes: what the interleavings model found', () => {
  it('a claim never takes over a lane still there, idle and empty: its spending would never reach consumed', async () => {
    const a = await agencyWithSubs(0, 100);
    const head = poolKey(a.agencyId);
    const idle = await openLane(head, a.agencyId, 'P', 10, 'gone-container');
    // Its container spent all of it and went away; its lease ran out.
    await transact([
      {
        name: 'lane',
        write: {
          Update: {
            TableName: stack.tableName,
            Key: { pk: `LANE#${head.pk}#${head.sk}#0`, sk: 'LANE' },
            UpdateExpression: 'SET #credits = :zero, #spent = :ten, #lease = :past',
            ExpressionAttributeNames: { '#credits': 'credits', '#spent': 'spent', '#lease': 'leaseUntil' },
            ExpressionAttributeValues: { ':zero': 0, ':ten': 10, ':past': Date.now() - 1 },
          },
        },
      },
    ]);
    const claim = transact([
      { name: 'head', write: fundLane({ key: head, credits: 5, fence: 0, opens: {}, at: AT, nowMs: Date.now() }) },
      {
        name: 'lane',
        write: claimLane({ ...idle, owner: 'this-container', credits: 5, spent: 0, leaseUntil: Date.now() + 60_000 }),
      },
    ]);
    await expect(claim).rejects.toBeInstanceOf(ConditionsFailed);
    // Closing it is what frees the slot, its spending counted.
    expect(await closeLanes(head, { idleOnly: true })).toBe(1);
    expect(await getBalance(head)).toMatchObject({ balance: 90, consumed: 10, lanesOpen: 0 });
  });

  it('an allowance set aside before the limit was removed comes back to the meter: a limit set again has all its room', async () => {
    // Today's month: a first limit counts the month's pool use from the usage rollups (sub-accounts.ts).
    const month = new Date().toISOString().slice(0, 7);
    const a = await agencyWithSubs(1, 500);
    const [sub] = a.subs as [string];
    expectStatus(await patchSub(a.token, sub, { monthlyCreditLimit: 100 }), 200, 'limit');
    expectStatus(await chargeUsage(sub, { type: 'ai_response', quantity: 10 }), 201, 'first debit');
    await openLane(poolKey(a.agencyId), a.agencyId, `L${sub}`, 30, 'another-container', month);
    expect(await meterItem(sub)).toMatchObject({ meterPoolUsed: 40, meterRemaining: 60 });
    // Removing the limit closes its lanes (standing.ts); the 30 set aside were never used and
    // leave the meter (its close is not refused for want of a limit).
    expectStatus(await patchSub(a.token, sub, { monthlyCreditLimit: null }), 200, 'no limit');
    expect(await getLanes(poolKey(a.agencyId), 1)).toEqual([]);
    expect((await meterItem(sub))?.meterPoolUsed).toBe(10);
    await pipelineIdle();
    expectStatus(await patchSub(a.token, sub, { monthlyCreditLimit: 100 }), 200, 'limit again');
    expect(await meterItem(sub)).toMatchObject({ meterPoolUsed: 10, meterRemaining: 90 });
    expectStatus(await chargeUsage(sub, { type: 'ai_response', quantity: 90 }), 201, 'the rest of the month');
    const past = await chargeUsage(sub, { type: 'ai_response', quantity: 1 });
    expect(past.status, past.text).toBe(402);
    expect(past.body.code).toBe('credit_limit_reached');
  });

  it('lanes closed together give each month its allowance back once, and a month turned since none', async () => {
    const month = new Date().toISOString().slice(0, 7);
    const a = await agencyWithSubs(2, 500);
    const [sub, turned] = a.subs as [string, string];
    const head = poolKey(a.agencyId);
    for (const s of [sub, turned]) {
      expectStatus(await patchSub(a.token, s, { monthlyCreditLimit: 100 }), 200, 'limit');
      expectStatus(await chargeUsage(s, { type: 'ai_response', quantity: 10 }), 201, 'first debit');
    }
    await openLane(head, a.agencyId, `L${sub}`, 20, 'container-a', month);
    await openLane(head, a.agencyId, `L${sub}`, 30, 'container-b', month);
    await openLane(head, a.agencyId, `L${turned}`, 25, 'container-c', month);
    await openLane(head, a.agencyId, 'P', 40);
    expect(await meterItem(sub)).toMatchObject({ meterPoolUsed: 60, meterRemaining: 40 });
    // The other sub-account's month turns (its first debit of the next month, 4 credits).
    const next = `${Number(month.slice(0, 4)) + (month.endsWith('12') ? 1 : 0)}-${String((Number(month.slice(5)) % 12) + 1).padStart(2, '0')}`;
    await transact(chargeMeter({ accountId: turned, seenMonth: month, month: next, credits: 4 }));
    const writes = await callsOfThisProcess(() => closeLanes(head));
    // One transaction for the four lanes (tried again without the turned month's allowance).
    expect(writes.filter((c) => c === 'TransactWriteItemsCommand')).toHaveLength(2);
    expect(await getLanes(head, 4)).toEqual([]);
    expect(await getBalance(head)).toMatchObject({ balance: 500 - 20, lanesOpen: 0 });
    expect(await meterItem(sub)).toMatchObject({ meterPoolUsed: 10, meterRemaining: 90 });
    expect(await meterItem(turned)).toMatchObject({ meterMonth: next, meterPoolUsed: 4 });
  });

  it('a sub-account at its monthly limit is refused 402 while other lanes of the pool are open, not 503 forever', async () => {
    const a = await agencyWithSubs(1, 500);
    const [sub] = a.subs as [string];
    expectStatus(await patchSub(a.token, sub, { monthlyCreditLimit: 5 }), 200, 'limit');
    expectStatus(await chargeUsage(sub, { type: 'ai_response', quantity: 5 }, { clock: AT }), 201, 'the whole month');
    // Another container's lane for the pool's other debits: the pool item takes no direct debit now.
    await openLane(poolKey(a.agencyId), a.agencyId, 'P', 50);
    const res = await chargeUsage(sub, { type: 'ai_response', quantity: 1 }, { clock: AT });
    expect(res.status, res.text).toBe(402);
    expect(res.body.code).toBe('credit_limit_reached');
  });

  it('a collect cut short between two batches of lanes (its answer lost) is finished by the next debit, not 503 until its pause ends', async () => {
    const a = await agencyWithSubs(1, 100);
    const [sub] = a.subs as [string];
    const head = poolKey(a.agencyId);
    // One lane more than a transaction closes: the collect closes them in two.
    for (let i = 0; i <= CLOSE_BATCH; i++) await openLane(head, a.agencyId, 'P', 1);
    // A container collects the pool and loses the answer to its first batch: the balance takes
    // no lanes for a while, and the other lane stays open (so no direct debit either).
    const pkOf = (key: any) => String(key?.pk?.S ?? key?.pk ?? '');
    const closesLanes = (command: string, input: any) =>
      command === 'TransactWriteItemsCommand' &&
      (input.TransactItems ?? []).some((i: any) => pkOf(i.Delete?.Key).startsWith('LANE#'));
    const writes = await callsOfThisProcess(() =>
      losingTheAnswerTo(closesLanes, () =>
        expect(closeLanes(head, { noLanesUntil: Date.now() + 30_000 })).rejects.toThrow(/socket hang up/),
      ),
    );
    // Every lane frozen in a write of its own, then one transaction on the balance item for 48 lanes.
    expect(writes.filter((c) => c === 'UpdateItemCommand')).toHaveLength(CLOSE_BATCH + 1);
    expect(writes.filter((c) => c === 'TransactWriteItemsCommand')).toHaveLength(1);
    const cutShort = await getBalance(head);
    expect(cutShort).toMatchObject({ balance: 100 - 1, lanesOpen: 1 });
    expect(cutShort?.noLanesUntil).toBeGreaterThan(Date.now());

    // Another container's debit: it finishes the collect, then debits the balance item.
    const res = await chargeUsage(sub, { type: 'ai_response', quantity: 3 }, { clock: AT });
    expect(res.status, res.text).toBe(201);
    expect(await getBalance(head)).toMatchObject({ balance: 97, lanesOpen: 0 });
    expect(await getLanes(head, CLOSE_BATCH + 1)).toEqual([]);
  });

  it('a collect cut short after freezing its lanes: debits go on, and the next collect closes the frozen lanes', async () => {
    const a = await agencyWithSubs(1, 100);
    const [sub] = a.subs as [string];
    const head = poolKey(a.agencyId);
    const owned = await openLane(head, a.agencyId, 'P', 20, containerId);
    await openLane(head, a.agencyId, 'P', 20);
    // The collect's batch never reaches DynamoDB: both lanes are frozen, none closed.
    const closesLanes = (command: string) => command === 'TransactWriteItemsCommand';
    await failingBefore(closesLanes, () => expect(closeLanes(head)).rejects.toThrow(/socket hang up/));
    const frozen = await lanesOf(head);
    expect(frozen.map((l) => l.owner)).toEqual([CLOSING, CLOSING]);
    expect(await poolBalance(a.agencyId)).toBe(100);
    // This process owned one of them: its debit finds it frozen, and is answered from elsewhere.
    expect((await debitInThisProcess(sub, uniq('after-freeze'))).status).toBe(201);
    expect((await lanesOf(head)).find((l) => l.slot === owned.slot)?.owner).toBe(CLOSING);
    expect(await poolBalance(a.agencyId)).toBe(99);
    // The sweeper (their lease is over) or the next collect closes them, every credit back.
    await closeLanes(head, { idleOnly: true });
    expect((await lanesOf(head)).filter((l) => l.owner === CLOSING)).toEqual([]);
    expect(await poolBalance(a.agencyId)).toBe(99);
    await closeLanes(head);
    expect(await getBalance(head)).toMatchObject({ balance: 99, lanesOpen: 0 });
  });

  it('containers claiming new slots from the same view each get theirs, a late lower slot too', async () => {
    const a = await agencyWithSubs(0, 100);
    const head = poolKey(a.agencyId);
    // Both saw no lanes and no slots, and drew slots 5 and 2 of the next page; 5 commits first.
    const claimFrom = (slot: number, owner: string) =>
      transact([
        {
          name: 'head',
          write: fundLane({ key: head, credits: 10, fence: 0, opens: { newSlotAfter: slot }, at: AT, nowMs: Date.now() }),
        },
        {
          name: 'lane',
          write: claimLane({
            kind: itemKinds.lane,
            agencyId: a.agencyId,
            headPk: head.pk,
            headSk: head.sk,
            slot,
            scope: 'P',
            credits: 10,
            spent: 0,
            owner,
            leaseUntil: Date.now() + 60_000,
            fence: 0,
          }),
        },
      ]);
    await claimFrom(5, 'first-container');
    await claimFrom(2, 'second-container');
    expect(await getBalance(head)).toMatchObject({ balance: 80, lanesOpen: 2, laneSlots: 8 });
    expect((await getLanes(head, 8)).map((l) => [l.slot, l.owner])).toEqual([
      [2, 'second-container'],
      [5, 'first-container'],
    ]);
    // A slot already taken stays one lane's: the lane's own condition refuses a second claimer.
    await expect(claimFrom(5, 'third-container')).rejects.toBeInstanceOf(ConditionsFailed);
  });

  it('a debit whose transaction met another on the balance item reads the item again before it tries again', async () => {
    const a = await agencyWithSubs(1, 500);
    const [sub] = a.subs as [string];
    const head = poolKey(a.agencyId);
    const here = (key: string) => debitInThisProcess(sub, key);
    // This container knows the pool quiet: no lanes, no slots.
    expect((await here(uniq('quiet'))).status).toBe(201);
    // Meanwhile other containers turned to lanes: every slot this one knows of is taken.
    for (let i = 0; i < 8; i++) await openLane(head, a.agencyId, 'P', 10);
    // Its next debit meets another transaction on the balance item, and tries again.
    const transactions = await conflictingOnce(
      () => 0,
      async () => expect((await here(uniq('after-conflict'))).status).toBe(201),
    );
    // Read again, the balance shows its eight lanes and slots: the claim takes a ninth at the
    // first try (and fills lanes ahead). On what it knew it would pick a taken slot and fail once
    // more (billed).
    expect(transactions).toEqual(['conflicted', 'sent']);
    const after = await getBalance(head);
    expect(after?.aheadSlots?.length).toBeGreaterThan(0);
    expect(after?.lanesOpen).toBe(9 + (after?.aheadSlots?.length ?? 0));
  });

  it('a container that learns a moved fence without its accounts (a collect) reads them again before it debits', async () => {
    const a = await agencyWithSubs(1, 500);
    const [sub] = a.subs as [string];
    const here = (key: string) => debitInThisProcess(sub, key);
    // This container knows the sub-account as manual (it drew on the pool)...
    expect((await here(uniq('manual'))).body.entry.balanceType).toBe('pool');
    // ...another container's lane opens on the pool, the sub-account is switched to reselling
    // (the pool's fence moves, that lane closes) and its wallet filled...
    await openLane(poolKey(a.agencyId), a.agencyId, 'P', 30);
    expectStatus(await patchSub(a.token, sub, { creditMode: 'reselling' }), 200, 'switch');
    expectStatus(await grant(a.token, sub, 20), 201, 'grant');
    // ...and this container learns the new fence by collecting the pool's lanes (a debit's collect does the same).
    await closeLanes(poolKey(a.agencyId));
    const after = await here(uniq('reselling'));
    expect(after.status, JSON.stringify(after.body)).toBe(201);
    expect(after.body.entry.balanceType).toBe('wallet');
  });

  it('a mode switch whose request failed after writing the account closes the old lanes when the client retries it', async () => {
    const a = await agencyWithSubs(1, 500);
    const [sub] = a.subs as [string];
    expectStatus(await patchSub(a.token, sub, { creditMode: 'reselling' }), 200, 'reselling');
    expectStatus(await grant(a.token, sub, 50), 201, 'grant');
    await openLane(walletKey(sub), a.agencyId, 'W', 30);
    const patch = () =>
      invoke(subAccountsHandler, 'PATCH /v1/sub-accounts/{subAccountId}', {
        params: { subAccountId: sub },
        token: a.token,
        body: { creditMode: 'manual' },
      });
    const failed = await losingTheAnswerTo(isAccountWrite, patch);
    expect(failed.status).toBe(503);
    expect((await patch()).status).toBe(200);
    expect(await getBalance(walletKey(sub))).toMatchObject({ balance: 50, lanesOpen: 0, fence: 1 });
  });

  it('a close whose request failed after writing the account closes its lanes when the client retries it', async () => {
    const a = await agencyWithSubs(1, 500);
    const [sub] = a.subs as [string];
    await openLane(poolKey(a.agencyId), a.agencyId, 'P', 30);
    const close = () =>
      invoke(subAccountsHandler, 'DELETE /v1/sub-accounts/{subAccountId}', { params: { subAccountId: sub }, token: a.token });
    expect((await losingTheAnswerTo(isAccountWrite, close)).status).toBe(503);
    expect((await close()).status).toBe(204);
    expect(await getBalance(poolKey(a.agencyId))).toMatchObject({ balance: 500, lanesOpen: 0, fence: 1 });
    const res = await api('POST', `/v1/accounts/${sub}/usage`, {
      token: stack.platformApiKey,
      headers: { 'idempotency-key': uniq('closed') },
      body: { type: 'ai_response', quantity: 1 },
    });
    expect(res.status).toBe(409);
  });

  // The answer's `balance` while lanes hold part of it is summed from the lanes as the entry is
  // made and kept on it (`balanceAnswered`); it was read again by every replay, so a replay
  // after a debit answered another figure.
  it('a replay of a top-up made while lanes were open answers its first balance', async () => {
    const a = await agencyWithSubs(0, 100);
    await openLane(poolKey(a.agencyId), a.agencyId, 'P', 30);
    const again = () => topUp(a.agencyId, 10, { key: `${a.agencyId}-top-up`, reference: 'the same', clock: AT });
    const first = expectStatus(await again(), 201, 'top-up');
    expect(first.body.entry.balanceAfter).toBeNull();
    expect(first.body.balance).toBe(110);
    expectStatus(await chargeUsage(a.agencyId, { type: 'ai_response', quantity: 3 }, { clock: AT }), 201, 'a debit');
    expect((await again()).text).toBe(first.text);
  });

  it('a replay of a grant into a wallet whose lanes were open answers its first balance', async () => {
    const a = await agencyWithSubs(1, 500);
    const [sub] = a.subs as [string];
    expectStatus(await patchSub(a.token, sub, { creditMode: 'reselling' }), 200, 'reselling');
    expectStatus(await grant(a.token, sub, 40), 201, 'first grant');
    await openLane(walletKey(sub), a.agencyId, 'W', 25);
    const again = () => grant(a.token, sub, 10, { key: `${sub}-grant` });
    const first = expectStatus(await again(), 201, 'grant');
    expect(first.body.entry.balanceAfter).toBeNull();
    expect(first.body.balance).toBe(50);
    expectStatus(await chargeUsage(sub, { type: 'ai_response', quantity: 3 }, { clock: AT }), 201, 'a debit');
    expect((await again()).text).toBe(first.text);
  });

  it('a limited sub-account that is not busy itself rides the pool lane, its meter charged debit by debit', async () => {
    const { limited, head } = await busyPoolAndLimitedSub(40);
    const mine = (await getLanes(head, 8)).find((l) => l.owner === containerId);
    expect(mine?.scope).toBe('P');
    // The limited sub-account debits this container's pool lane: no lane of its own (a claim and
    // a release on the pool item, with its allowance set aside), its month charged exactly.
    for (let i = 0; i < 3; i++) expect((await debitInThisProcess(limited, uniq('ride'), 2)).status).toBe(201);
    const lanes = await lanesOf(head);
    expect(lanes.every((l) => l.scope === 'P')).toBe(true);
    expect(lanes.filter((l) => l.owner !== AHEAD)).toHaveLength(2);
    expect(lanes.find((l) => l.owner === containerId)).toMatchObject({ spent: (mine?.spent ?? 0) + 6 });
    expect(await meterItem(limited)).toMatchObject({ meterPoolUsed: 6, meterRemaining: 34 });
    // The month's limit holds on the ride, past what the lane holds (a refill rides too).
    const rest = await debitInThisProcess(limited, uniq('rest'), 34);
    expect(rest.status, JSON.stringify(rest.body)).toBe(201);
    const past = await debitInThisProcess(limited, uniq('past'));
    expect(past.status).toBe(402);
    expect(past.body.code).toBe('credit_limit_reached');
    expect(await meterItem(limited)).toMatchObject({ meterPoolUsed: 40, meterRemaining: 0 });
    expect((await lanesOf(head)).every((l) => l.scope === 'P')).toBe(true);
  });

  it('a limited sub-account whose meter meets another transaction is busy itself: it takes a lane of its own', async () => {
    const { limited, head } = await busyPoolAndLimitedSub(400);
    expect((await debitInThisProcess(limited, uniq('ride'))).status).toBe(201);
    // Its next ride meets another debit of the same sub-account on its meter.
    const transactions = await conflictingOnce(
      (items) => items.findIndex((i) => [i.Update?.Key?.sk, i.Update?.Key?.sk?.S].includes('METER')),
      async () => expect((await debitInThisProcess(limited, uniq('met'))).status).toBe(201),
    );
    expect(transactions).toEqual(['conflicted', 'sent']);
    const scoped = (await lanesOf(head)).filter((l) => l.scope === `L${limited}`);
    const own = scoped.filter((l) => l.owner !== AHEAD);
    expect(own).toHaveLength(1);
    expect(own[0]).toMatchObject({ owner: containerId });
    // Its allowance set aside with its lane and those it filled ahead, charged to the month: 2
    // debits of 1, and the rest of the lanes'.
    const meter = await meterItem(limited);
    expect(meter?.meterPoolUsed).toBe(1 + 1 + scoped.reduce((sum, l) => sum + (l.allowance ?? 0), 0));
  });

  it('a claim fills lanes ahead; the next container takes one with its debit, writing nothing else', async () => {
    const a = await agencyWithSubs(1, 500);
    const [sub] = a.subs as [string];
    const head = poolKey(a.agencyId);
    // Another container has a lane, so this one claims one too, and fills lanes ahead.
    await openLane(head, a.agencyId, 'P', 10);
    expect((await debitInThisProcess(sub, uniq('claim'))).status).toBe(201);
    const filled = await getBalance(head);
    const ahead = (await lanesOf(head)).filter((l) => l.owner === AHEAD);
    // Twice the scope's lanes in use (the other container's), one more counted.
    expect(ahead).toHaveLength(2 * (1 + 1));
    expect(ahead.map((l) => l.slot).sort()).toEqual([...(filled?.aheadSlots ?? [])].sort());
    expect(filled?.lanesOpen).toBe(2 + ahead.length);
    // The stack's own container (over HTTP) needs a lane: it takes one filled ahead. The balance
    // item is not written (same version), and the lane is its own now, less its debit.
    expectStatus(await chargeUsage(sub, { type: 'ai_response', quantity: 3 }, { key: uniq('take'), clock: AT }), 201, 'take');
    expect((await getBalance(head))?.version).toBe(filled?.version);
    const lanes = await lanesOf(head);
    const taken = lanes.filter((l) => l.owner !== AHEAD && l.owner !== containerId && l.owner !== 'another-container');
    expect(taken).toHaveLength(1);
    expect(ahead.map((l) => l.slot)).toContain(taken[0]?.slot);
    expect(taken[0]).toMatchObject({ credits: (ahead[0]?.credits ?? 0) - 3, spent: 3 });
    // Every credit is where it should be: the balance read sums the item and every lane.
    expect(await poolBalance(a.agencyId)).toBe(500 - 1 - 3);
    // A collect brings every lane back, those still waiting too.
    expect(await closeLanes(head)).toBe(lanes.length);
    expect(await getBalance(head)).toMatchObject({ balance: 496, lanesOpen: 0 });
  });

  it('a lane running low is refilled riding on a debit; with the balance item busy, the debit goes on the lane alone', async () => {
    const a = await agencyWithSubs(1, 10_000);
    const [sub] = a.subs as [string];
    const head = poolKey(a.agencyId);
    // Another container has a lane, so this one claims one of its own with its first debit.
    await openLane(head, a.agencyId, 'P', 100);
    expect((await debitInThisProcess(sub, uniq('claim'))).status).toBe(201);
    const own = async () => (await lanesOf(head)).find((l) => l.owner === containerId) as LaneItem;
    const held = (await own()).credits;
    // This container debits fast enough that what its lane holds is under half a second of use.
    const state = scopeState(`${itemId(head)}|P`);
    const busy = () => {
      state.rate = held * 4;
    };
    busy();
    const transactions = await conflictingOnce(
      (items) => items.findIndex((i) => [i.Update?.Key?.sk, i.Update?.Key?.sk?.S].includes('POOL')),
      async () => expect((await debitInThisProcess(sub, uniq('busy'))).status).toBe(201),
    );
    // The refill met another transaction on the pool item: the debit went on the lane alone.
    expect(transactions).toEqual(['conflicted', 'sent']);
    expect((await own()).credits).toBe(held - 1);
    // A little later the next debit refills it ahead, in its one transaction.
    await new Promise((r) => setTimeout(r, 350));
    busy();
    const calls = await callsOfThisProcess(async () => expect((await debitInThisProcess(sub, uniq('refill'))).status).toBe(201));
    expect(calls.filter((c) => c === 'TransactWriteItemsCommand')).toHaveLength(1);
    expect((await own()).credits).toBeGreaterThan(held - 2);
    expect(await poolBalance(a.agencyId)).toBe(10_000 - 3);
  });

  it('a container whose last debit found the balance moved by another reads it first: no failed write', async () => {
    const a = await agencyWithSubs(1, 500);
    const [sub] = a.subs as [string];
    const here = async (key: string) => {
      const calls = await callsOfThisProcess(async () => expect((await debitInThisProcess(sub, uniq(key))).status).toBe(201));
      return {
        transactions: calls.filter((c) => c === 'TransactWriteItemsCommand').length,
        poolReads: calls.filter((c) => c === 'read POOL').length,
      };
    };
    const elsewhere = async () =>
      expectStatus(await chargeUsage(sub, { type: 'ai_response', quantity: 1 }, { clock: AT }), 201, 'gateway debit');
    await here('first');
    await elsewhere();
    // Its view is one version old: the version-pinned write fails (billed), the retry lands.
    expect(await here('stale')).toEqual({ transactions: 2, poolReads: 0 });
    await elsewhere();
    // Moved again meanwhile, as a balance shared by many containers is: it reads, then writes once.
    expect(await here('read-first')).toEqual({ transactions: 1, poolReads: 1 });
    // Nobody moved it since: the read finds the view right, and the next debit no longer reads.
    expect(await here('view-right')).toEqual({ transactions: 1, poolReads: 1 });
    expect(await here('no-read')).toEqual({ transactions: 1, poolReads: 0 });
    expect(await poolBalance(a.agencyId)).toBe(500 - 7);
  });
});

describe("lanes: the sweeper's list", () => {
  const listed = async (head: Key) => ({
    item: (await getItem(laneHeadKey(head), laneHeadShape)) !== undefined,
    found: (await listedLaneHeads()).some((h) => itemId(h) === itemId(head)),
  });

  it('holds a balance while any lane is open, off it with the last; one listed the old way is found there too', async () => {
    const a = await agencyWithSubs(1, 500);
    const [sub] = a.subs as [string];
    const head = poolKey(a.agencyId);
    // A lane claimed before the list existed: the balance item itself on gsi1, no list item.
    await openLane(head, a.agencyId, 'P', 50);
    await db.send(new DeleteCommand({ TableName: stack.tableName, Key: laneHeadKey(head) }));
    await db.send(
      new UpdateCommand({
        TableName: stack.tableName,
        Key: head,
        UpdateExpression: 'SET gsi1pk = :heads, gsi1sk = :id',
        ExpressionAttributeValues: { ':heads': LEGACY_LANE_HEADS, ':id': itemId(head) },
      }),
    );
    expect(await listed(head)).toEqual({ item: false, found: true });
    // This container's debit meets an open lane, so it claims one of its own: the claim lists the balance.
    expect((await debitInThisProcess(sub, uniq('claim'))).status).toBe(201);
    expect(await listed(head)).toEqual({ item: true, found: true });
    expect(await closeLanes(head, { ownedBy: 'another-container' })).toBe(1);
    expect(await listed(head)).toEqual({ item: true, found: true });
    // Its own lane and those its claim filled ahead.
    const ahead = (await getBalance(head))?.aheadSlots?.length ?? 0;
    expect(await closeLanes(head)).toBe(1 + ahead);
    expect(await listed(head)).toEqual({ item: false, found: false });
    expect(await getBalance(head)).toMatchObject({ balance: 499, lanesOpen: 0 });
    expect(await getBalance(head)).not.toHaveProperty('gsi1pk');
  });
});
