/**
 * Grants MOVE credits; they never create them (issue 8, "free credits"). The sequence that
 * used to mint credits — a top-up of 100, then grants of 60 and 50 — now ends with pool 40,
 * wallet 60 and a 402 that moves nothing. Every balance also has a ceiling, enforced in the
 * same write as the move.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_BALANCE } from '#db/items/balance';
import { type AgencyFixture, signUpAgency, uniq } from '../support/api';
import {
  createSubAccountOnly,
  expectStatus,
  grant,
  ledgerEntries,
  ledgerSnapshot,
  patchSub,
  poolBalance,
  topUp,
  walletBalance,
} from '../support/ledger';
import { stack } from '../support/stack';
import { testDb } from '../support/table';

let agency: AgencyFixture;
let sub: string;

beforeAll(async () => {
  agency = await signUpAgency('agency');
  sub = await createSubAccountOnly(agency.token);
  expectStatus(await patchSub(agency.token, sub, { creditMode: 'reselling' }), 200, 'reselling');
});

describe('a grant moves credits from the pool into the wallet', () => {
  it('top-up 100, grant 60 → pool 40, wallet 60; grant 50 → 402 and nothing moves', async () => {
    expectStatus(await topUp(agency.agencyId, 100), 201, 'top-up');

    const first = await grant(agency.token, sub, 60);
    expect(first.status, first.text).toBe(201);
    expect(first.body.balance).toBe(60);
    expect(first.body.entry).toMatchObject({ type: 'grant', credits: 60, balanceType: 'wallet', balanceAfter: 60 });
    expect(await poolBalance(agency.agencyId)).toBe(40);
    expect(await walletBalance(sub)).toBe(60);
    // One entry on each side of the same request.
    const sides = (await ledgerEntries(agency.agencyId)).filter((e) => e.type === 'grant');
    expect(sides.map((e) => [e.balanceKind, e.credits, e.balanceAfter, e.subAccountId]).sort()).toEqual([
      ['pool', -60, 40, sub],
      ['wallet', 60, 60, sub],
    ]);

    const before = await ledgerSnapshot(agency.agencyId, [sub]);
    const key = uniq('too-much');
    const second = await grant(agency.token, sub, 50, { key });
    expect(second.status, second.text).toBe(402);
    expect(second.body.code).toBe('insufficient_credits');
    expect(await ledgerSnapshot(agency.agencyId, [sub])).toEqual(before);
    expect(before).toMatchObject({ pool: 40, wallets: { [sub]: 60 } });

    // The refusal is remembered under its key (a retry after a top-up is the same 402); a new key is a new request.
    expectStatus(await topUp(agency.agencyId, 10), 201, 'top-up 10');
    const again = await grant(agency.token, sub, 50, { key });
    expect(again.status).toBe(402);
    expect(again.body).toEqual(second.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expectStatus(await grant(agency.token, sub, 50), 201, 'grant 50 from a pool of 50');
    expect(await poolBalance(agency.agencyId)).toBe(0);
    expect(await walletBalance(sub)).toBe(110);
  });

  it('a retried grant answers its first result and moves nothing more', async () => {
    expectStatus(await topUp(agency.agencyId, 30), 201, 'top-up');
    const key = uniq('retry');
    const first = expectStatus(await grant(agency.token, sub, 20, { key }), 201, 'grant');
    const pool = await poolBalance(agency.agencyId);
    const wallet = await walletBalance(sub);
    const again = await grant(agency.token, sub, 20, { key });
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await poolBalance(agency.agencyId)).toBe(pool);
    expect(await walletBalance(sub)).toBe(wallet);
    expect((await ledgerEntries(agency.agencyId)).filter((e) => e.idempotencyKey === key)).toHaveLength(2);
  });
});

/**
 * Sets a balance as if its credits had arrived long ago (reaching the ceiling through the API
 * would take 1,000 top-ups). The version moves on, as any write's would, so the API's cached
 * hint of the balance goes stale; each test then makes one move that fits, which refreshes the
 * hint, so the refusal after it comes from the write's own ceiling condition (a current
 * version), not from reading a stale one.
 */
async function setBalance(agencyId: string, pk: string, sk: string, balance: number) {
  await testDb.send(
    new UpdateCommand({
      TableName: stack.tableName,
      Key: { pk, sk },
      UpdateExpression: 'SET balance = :b, version = if_not_exists(version, :zero) + :one, kind = :kind, agencyId = :agency',
      ExpressionAttributeValues: { ':b': balance, ':zero': 0, ':one': 1, ':kind': 'balance', ':agency': agencyId },
    }),
  );
}

describe('the balance ceiling', () => {
  it(`a top-up past ${MAX_BALANCE} credits is 409 balance_limit_exceeded, nothing moves; up to it is fine`, async () => {
    const a = await signUpAgency('starter');
    expectStatus(await topUp(a.agencyId, 1), 201, 'first top-up');
    await setBalance(a.agencyId, `ACCOUNT#${a.agencyId}`, 'POOL', MAX_BALANCE - 11);
    expectStatus(await topUp(a.agencyId, 1), 201, 'a top-up that fits');
    const before = await ledgerSnapshot(a.agencyId);
    const over = await topUp(a.agencyId, 11);
    expect(over.status, over.text).toBe(409);
    expect(over.body.code).toBe('balance_limit_exceeded');
    expect(await ledgerSnapshot(a.agencyId)).toEqual(before);
    const upTo = await topUp(a.agencyId, 10);
    expect(upTo.status, upTo.text).toBe(201);
    expect(upTo.body.balance).toBe(MAX_BALANCE);
  });

  it('a grant that would take a wallet past it is refused, and the pool keeps its credits', async () => {
    expectStatus(await topUp(agency.agencyId, 100), 201, 'top-up');
    await setBalance(agency.agencyId, `ACCOUNT#${sub}`, 'WALLET', MAX_BALANCE - 6);
    expectStatus(await grant(agency.token, sub, 1), 201, 'a grant that fits');
    const before = await ledgerSnapshot(agency.agencyId, [sub]);
    const over = await grant(agency.token, sub, 6);
    expect(over.status, over.text).toBe(409);
    expect(over.body.code).toBe('balance_limit_exceeded');
    expect(await ledgerSnapshot(agency.agencyId, [sub])).toEqual(before);
    const upTo = await grant(agency.token, sub, 5);
    expect(upTo.status, upTo.text).toBe(201);
    expect(upTo.body.balance).toBe(MAX_BALANCE);
    expect(await poolBalance(agency.agencyId)).toBe(before.pool - 5);
  });
});
