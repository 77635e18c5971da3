import { DynamoDBClient, TransactionCanceledException, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { meterDynamo } from '../../scripts/bench/dynamo-meter';
import { Fleet } from '../../scripts/bench/fleet';
import { usageEvent } from '../../scripts/bench/usage-event';
import { api, createSubAccount, signUpAgency, uniq } from '../support/api';
import { stack } from '../support/stack';

/**
 * The containers bench's own instruments, against the local stack: its DynamoDB meter tells
 * failed conditions from conflicts, and its container processes really hold their own hints,
 * so a balance moved by one container costs the other exactly one failed transaction.
 */
describe('bench: DynamoDB meter', () => {
  const client = new DynamoDBClient({});
  const meter = meterDynamo(client);
  afterAll(() => client.destroy());
  const transact = (condition: string) =>
    client.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            Put: {
              TableName: stack.tableName,
              Item: { pk: { S: uniq('METER') }, sk: { S: 'x' } },
              ConditionExpression: condition,
            },
          },
        ],
      }),
    );

  it('counts calls, failed conditions and injected conflicts apart', async () => {
    meter.take();
    await transact('attribute_not_exists(pk)');
    await expect(transact('attribute_exists(pk)')).rejects.toBeInstanceOf(TransactionCanceledException);
    meter.setConflictRate(1);
    const conflict = await transact('attribute_not_exists(pk)').catch((e: TransactionCanceledException) => e);
    meter.setConflictRate(0);
    expect(conflict).toBeInstanceOf(TransactionCanceledException);
    expect((conflict as TransactionCanceledException).CancellationReasons?.[0]?.Code).toBe('TransactionConflict');
    expect(meter.take()).toEqual({ calls: 3, transactions: 3, failedConditions: 1, conflicts: 1, injected: 1 });
  });
});

describe('bench: container processes', () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await Fleet.start(2, { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR' });
  });
  afterAll(async () => {
    await fleet?.stop();
  });

  it('a debit in a container whose pool hint another container made stale costs one failed transaction, then commits', async () => {
    const agency = await signUpAgency('agency');
    const topUp = await api('POST', `/v1/admin/agencies/${agency.agencyId}/credits`, {
      token: stack.platformApiKey,
      headers: { 'idempotency-key': uniq('topup') },
      body: { credits: 100, reference: 'bench test' },
    });
    expect(topUp.status).toBe(201);
    const { subAccountId } = await createSubAccount(agency.token);
    const debit = () => usageEvent(subAccountId, stack.platformApiKey, uniq('debit'), { type: 'ai_response', quantity: 1 });

    // Both containers learn the pool (cold: account and pool read, then one transaction each).
    expect((await fleet.invokeOn(0, debit())).status).toBe(201);
    expect((await fleet.invokeOn(1, debit())).status).toBe(201);
    await fleet.takeCounts();

    // Container 0 still holds the version it wrote; container 1 has moved the pool since.
    expect(await fleet.invokeOn(0, debit())).toMatchObject({ status: 201, attempts: 2 });
    expect(await fleet.takeCounts()).toEqual({ calls: 2, transactions: 2, failedConditions: 1, conflicts: 0, injected: 0 });

    // Its view was stale last time, so it reads the pool before the next debit; nobody moved it
    // meanwhile: a read and one transaction, and the read tells it its view is right again.
    expect((await fleet.invokeOn(0, debit())).status).toBe(201);
    expect(await fleet.takeCounts()).toEqual({ calls: 2, transactions: 1, failedConditions: 0, conflicts: 0, injected: 0 });

    // Now current again: one call.
    expect((await fleet.invokeOn(0, debit())).status).toBe(201);
    expect(await fleet.takeCounts()).toEqual({ calls: 1, transactions: 1, failedConditions: 0, conflicts: 0, injected: 0 });
  });
});
