/**
 * The campaigns' 409 `conflict` answers, provoked with real writes at the exact moment that
 * loses the race (a hook on this process's DynamoDB client runs the other writer just before
 * the request's own write goes out):
 *  - PATCH re-reads and retries when the campaign's version moved under it (its audit record's
 *    "before" is then the other writer's), and after three lost rounds answers 409 `conflict`,
 *    leaving the other writer's campaign as it was, and no record;
 *  - a copy whose target lost the campaigns feature during the transaction, and had it back
 *    when the copy looked again, answers 409 `conflict` with nothing copied.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dynamo } from '#db/client';
import { handler as campaignsHandler } from '../../functions/http/campaigns';
import { type AgencyFixture, api, createSubAccount, signUpAgency } from '../support/api';
import { campaignItemsIn } from '../support/campaigns';
import { invoke } from '../support/invoke';
import { stack } from '../support/stack';
import { getRaw, testDb } from '../support/table';

const HOOK = 'race-the-campaign-write';
let agency: AgencyFixture;

beforeAll(async () => {
  agency = await signUpAgency('agency');
});
afterEach(() => {
  dynamo.middlewareStack.remove(HOOK);
});

/** Runs `before` just before each of this process's DynamoDB calls named `command` that `matches`. */
function beforeWrite(command: string, matches: (input: Record<string, unknown>) => boolean, before: () => Promise<void>) {
  let ran = 0;
  dynamo.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === command && matches(args.input as Record<string, unknown>)) {
        ran++;
        await before();
      }
      return next(args);
    },
    { step: 'initialize', name: HOOK },
  );
  return () => ran;
}

async function newCampaign(accountId: string): Promise<string> {
  const res = await api('POST', `/v1/accounts/${accountId}/campaigns`, { token: agency.token, body: { name: 'Original' } });
  expect(res.status).toBe(201);
  return res.body.campaign.id;
}

const campaignItem = (accountId: string, campaignId: string) => getRaw(`ACCOUNT#${accountId}`, `CAMPAIGN#${campaignId}`);

/** Another writer's change to the campaign: its name, and the version moved on. */
const otherWriter = (accountId: string, campaignId: string, name: string) => () =>
  testDb
    .send(
      new UpdateCommand({
        TableName: stack.tableName,
        Key: { pk: `ACCOUNT#${accountId}`, sk: `CAMPAIGN#${campaignId}` },
        UpdateExpression: 'SET #name = :name, version = version + :one',
        ExpressionAttributeNames: { '#name': 'name' },
        ExpressionAttributeValues: { ':name': name, ':one': 1 },
      }),
    )
    .then(() => undefined);

/** The campaign's versioned write, in the transaction that carries its audit record. */
const isVersionedPut = (input: Record<string, unknown>) =>
  ((input.TransactItems ?? []) as Array<{ Put?: { ConditionExpression?: string } }>).some(
    (item) => item.Put?.ConditionExpression === 'version = :version',
  );

const patch = (accountId: string, campaignId: string, name: string) =>
  invoke(campaignsHandler, 'PATCH /v1/accounts/{accountId}/campaigns/{campaignId}', {
    params: { accountId, campaignId },
    token: agency.token,
    body: { name },
  });

describe('PATCH a campaign that keeps changing', () => {
  it('retries after losing once, and commits on the version the other writer left', async () => {
    const accountId = agency.agencyId;
    const campaignId = await newCampaign(accountId);
    let first = true;
    const raced = beforeWrite('TransactWriteItemsCommand', isVersionedPut, async () => {
      if (!first) return;
      first = false;
      await otherWriter(accountId, campaignId, 'Theirs')();
    });
    const res = await patch(accountId, campaignId, 'Mine');
    expect(raced()).toBe(2);
    expect(res.status).toBe(200);
    expect(res.body.campaign.name).toBe('Mine');
    expect((await campaignItem(accountId, campaignId))?.version).toBe(3);
    // Its audit record's "before" is what it replaced: the other writer's name, not the one first read.
    const log = await api('GET', `/v1/audit-log?target=${campaignId}&action=campaign.updated`, { token: agency.token });
    expect(log.body.items.map((r: { changes: unknown }) => r.changes)).toEqual([
      [{ field: 'name', before: 'Theirs', after: 'Mine' }],
    ]);
  });

  it('answers 409 conflict after three lost rounds, and writes nothing of its own', async () => {
    const accountId = agency.agencyId;
    const campaignId = await newCampaign(accountId);
    let n = 0;
    const raced = beforeWrite('TransactWriteItemsCommand', isVersionedPut, async () =>
      otherWriter(accountId, campaignId, `Theirs ${++n}`)(),
    );
    const res = await patch(accountId, campaignId, 'Mine');
    expect(raced()).toBe(3);
    expect([res.status, res.body.code]).toEqual([409, 'conflict']);
    const stored = await campaignItem(accountId, campaignId);
    expect(stored).toMatchObject({ name: 'Theirs 3', version: 4 });
    const log = await api('GET', `/v1/audit-log?target=${campaignId}&action=campaign.updated`, { token: agency.token });
    expect(log.body.items).toEqual([]);
  });
});

describe('copy into a target that changes during the write', () => {
  it('answers 409 conflict, copies nothing, when the target lost and regained the feature meanwhile', async () => {
    const sourceId = await newCampaign(agency.agencyId);
    const [kept, flickering] = await Promise.all([createSubAccount(agency.token), createSubAccount(agency.token)]);
    const features = (await getRaw(`ACCOUNT#${flickering.subAccountId}`, 'ACCOUNT'))?.features as string[];
    expect(features).toContain('campaigns');
    const setFeatures = (list: string[]) =>
      testDb.send(
        new UpdateCommand({
          TableName: stack.tableName,
          Key: { pk: `ACCOUNT#${flickering.subAccountId}`, sk: 'ACCOUNT' },
          UpdateExpression: 'SET features = :f',
          ExpressionAttributeValues: { ':f': list },
        }),
      );
    // The feature is gone when the transaction checks it, and back before the copy reads again.
    let cancelled = 0;
    dynamo.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'TransactWriteItemsCommand') return next(args);
        await setFeatures(features.filter((f) => f !== 'campaigns'));
        try {
          return await next(args);
        } catch (err) {
          cancelled++;
          throw err;
        } finally {
          await setFeatures(features);
        }
      },
      { step: 'initialize', name: HOOK },
    );
    const res = await invoke(campaignsHandler, 'POST /v1/accounts/{accountId}/campaigns/{campaignId}/copy', {
      params: { accountId: agency.agencyId, campaignId: sourceId },
      token: agency.token,
      body: { targetAccountIds: [kept.subAccountId, flickering.subAccountId] },
    });
    expect(cancelled, 'the transaction was tried and cancelled by its guard').toBe(1);
    expect([res.status, res.body.code]).toEqual([409, 'conflict']);
    expect(await campaignItemsIn(kept.subAccountId)).toEqual([]);
    expect(await campaignItemsIn(flickering.subAccountId)).toEqual([]);
  });
});
