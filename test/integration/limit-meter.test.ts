/**
 * A limited sub-account's meter is an item of its own (packages/db/items/meter.ts): what a limit
 * change writes there, what a charge checks on the account without writing it, and the meter of
 * a limit set before meters had items, copied from the account item on first use.
 */
import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { api, signUpAgency } from '../support/api';
import {
  accountItem,
  chargeUsage,
  createSubAccountOnly,
  expectStatus,
  grant,
  meterItem,
  patchSub,
  topUp,
} from '../support/ledger';
import { pipelineIdle } from '../support/pipeline';
import { stack } from '../support/stack';
import { testDb } from '../support/table';

const AT = '2026-07-15T12:00:00.000Z';
const MONTH = AT.slice(0, 7);

async function limitedSub(limit: number) {
  const agency = await signUpAgency('agency');
  expectStatus(await topUp(agency.agencyId, 1_000, { clock: AT }), 201, 'top-up');
  const sub = await createSubAccountOnly(agency.token);
  expectStatus(await patchSub(agency.token, sub, { monthlyCreditLimit: limit }), 200, 'limit');
  return { agency, sub };
}

describe('the monthly meter, an item of its own', () => {
  it('a limit change writes the meter; charges leave the account item (and its index copy) alone', async () => {
    const { agency, sub } = await limitedSub(40);
    expect(await meterItem(sub)).toMatchObject({ kind: 'account_meter', agencyId: agency.agencyId, monthlyCreditLimit: 40 });
    const account = await accountItem(sub);
    expectStatus(await chargeUsage(sub, { type: 'ai_response', quantity: 15 }, { clock: AT }), 201, 'charge');
    expect(await meterItem(sub)).toMatchObject({ meterMonth: MONTH, meterPoolUsed: 15, meterRemaining: 25 });
    expect(await accountItem(sub)).toEqual(account);
    // A new limit moves the room by what was given out; removing it keeps what was given out.
    expectStatus(await patchSub(agency.token, sub, { monthlyCreditLimit: 20 }), 200, 'lower');
    expect(await meterItem(sub)).toMatchObject({ monthlyCreditLimit: 20, meterPoolUsed: 15, meterRemaining: 5 });
    const past = await chargeUsage(sub, { type: 'ai_response', quantity: 6 }, { clock: AT });
    expect(past.status, past.text).toBe(402);
    expect(past.body.code).toBe('credit_limit_reached');
    expectStatus(await patchSub(agency.token, sub, { monthlyCreditLimit: null }), 200, 'no limit');
    const meter = await meterItem(sub);
    expect(meter?.meterPoolUsed).toBe(15);
    expect(meter?.monthlyCreditLimit).toBeUndefined();
    expectStatus(await chargeUsage(sub, { type: 'ai_response', quantity: 6 }, { clock: AT }), 201, 'no limit: pool only');
    expect((await meterItem(sub))?.meterPoolUsed).toBe(15);
  });

  it('a closed sub-account is refused though its meter has room: the charge checks the account', async () => {
    const { sub } = await limitedSub(40);
    expectStatus(await chargeUsage(sub, { type: 'ai_response', quantity: 1 }, { clock: AT }), 201, 'charge');
    const closed = await testDb.send(
      new UpdateCommand({
        TableName: stack.tableName,
        Key: { pk: `ACCOUNT#${sub}`, sk: 'ACCOUNT' },
        UpdateExpression: 'SET #status = :closed',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':closed': 'closed' },
      }),
    );
    expect(closed.$metadata.httpStatusCode).toBe(200);
    // The gateway's container still knows it active: only the transaction's check can refuse it.
    const res = await chargeUsage(sub, { type: 'ai_response', quantity: 1 }, { clock: AT });
    expect(res.status, res.text).toBe(409);
    expect((await meterItem(sub))?.meterPoolUsed).toBe(1);
  });

  it('a meter kept on the account item (before meters had items) is copied on first use, its month intact', async () => {
    const { sub } = await limitedSub(40);
    await meterOnTheAccount(sub, 35, 5);
    const over = await chargeUsage(sub, { type: 'ai_response', quantity: 6 }, { clock: AT });
    expect(over.status, over.text).toBe(402);
    expect(over.body.code).toBe('credit_limit_reached');
    expectStatus(await chargeUsage(sub, { type: 'ai_response', quantity: 5 }, { clock: AT }), 201, 'the rest');
    expect(await meterItem(sub)).toMatchObject({
      monthlyCreditLimit: 40,
      meterMonth: MONTH,
      meterPoolUsed: 40,
      meterRemaining: 0,
    });
  });

  it('a limit changed on a meter kept on the account item starts from that meter: the month stays counted', async () => {
    const { agency, sub } = await limitedSub(40);
    await meterOnTheAccount(sub, 35, 5);
    expectStatus(await patchSub(agency.token, sub, { monthlyCreditLimit: 50 }), 200, 'raised');
    expect(await meterItem(sub)).toMatchObject({
      monthlyCreditLimit: 50,
      meterMonth: MONTH,
      meterPoolUsed: 35,
      meterRemaining: 15,
    });
    const over = await chargeUsage(sub, { type: 'ai_response', quantity: 16 }, { clock: AT });
    expect(over.status, over.text).toBe(402);
    expectStatus(await chargeUsage(sub, { type: 'ai_response', quantity: 15 }, { clock: AT }), 201, 'the rest');
  });

  it("a first limit counts the month's pool use, not what the client paid for from its wallet", async () => {
    // Today, as the PATCH that sets the limit reads its month.
    const agency = await signUpAgency('agency');
    expectStatus(await topUp(agency.agencyId, 1_000), 201, 'top-up');
    const sub = await createSubAccountOnly(agency.token);
    expectStatus(await patchSub(agency.token, sub, { creditMode: 'reselling' }), 200, 'reselling');
    expectStatus(await grant(agency.token, sub, 100), 201, 'grant');
    expectStatus(await chargeUsage(sub, { type: 'ai_response', quantity: 30 }), 201, 'from the wallet');
    expectStatus(await patchSub(agency.token, sub, { creditMode: 'manual' }), 200, 'manual');
    expectStatus(await chargeUsage(sub, { type: 'campaign_message', quantity: 12 }), 201, 'from the pool');
    await pipelineIdle();
    // The month's use is both (the rollups' month part); the limit counts the pool's 12 only.
    const read = await api('GET', `/v1/sub-accounts/${sub}`, { token: agency.token });
    expect(read.body.subAccount.creditsUsedThisMonth).toBe(42);
    expectStatus(await patchSub(agency.token, sub, { monthlyCreditLimit: 20 }), 200, 'first limit');
    expect(await meterItem(sub)).toMatchObject({ monthlyCreditLimit: 20, meterPoolUsed: 12, meterRemaining: 8 });
    const past = await chargeUsage(sub, { type: 'ai_response', quantity: 9 });
    expect(past.status, past.text).toBe(402);
    expect(past.body.code).toBe('credit_limit_reached');
  });
});

/** As a limited sub-account looked before meters had items: the meter's fields on its account item, no meter item. */
async function meterOnTheAccount(sub: string, used: number, remaining: number) {
  await testDb.send(new DeleteCommand({ TableName: stack.tableName, Key: { pk: `ACCOUNT#${sub}`, sk: 'METER' } }));
  await testDb.send(
    new UpdateCommand({
      TableName: stack.tableName,
      Key: { pk: `ACCOUNT#${sub}`, sk: 'ACCOUNT' },
      UpdateExpression: 'SET meterMonth = :month, meterPoolUsed = :used, meterRemaining = :remaining',
      ExpressionAttributeValues: { ':month': MONTH, ':used': used, ':remaining': remaining },
    }),
  );
}
