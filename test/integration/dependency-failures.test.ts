import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AgencyFixture, api, createSubAccount, signUpAgency } from '../support/api';
import { invoke } from '../support/invoke';
import { pipelineIdle } from '../support/pipeline';
import { stack } from '../support/stack';

/**
 * A dependency that fails is the client's cue to come back later, never a bare 500: DynamoDB
 * unreachable or failing → 503 service_unavailable with Retry-After; DynamoDB throttling us →
 * 429 throttled with Retry-After; the readiness check → 503; and a bug is still a 500. Faults
 * are injected into this worker's SDK client (SDK middleware): DynamoDB Local cannot produce
 * them on demand. Nothing is charged on any of them.
 */
type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
let usage: Handler;
let publicFn: Handler;
let subs: Handler;
let dynamo: typeof import('#db/client').dynamo;
let agency: AgencyFixture;
let subAccountId: string;

beforeAll(async () => {
  ({ dynamo } = await import('#db/client'));
  ({ handler: usage } = (await import('../../functions/http/usage')) as { handler: Handler });
  ({ handler: publicFn } = (await import('../../functions/http/public')) as { handler: Handler });
  ({ handler: subs } = (await import('../../functions/http/sub-accounts')) as { handler: Handler });
  agency = await signUpAgency('agency');
  ({ subAccountId } = await createSubAccount(agency.token));
});

const FAULT = 'inject-dependency-fault';
afterEach(() => {
  dynamo.middlewareStack.remove(FAULT);
});
function failEveryCall(make: () => Error) {
  let calls = 0;
  dynamo.middlewareStack.add(
    () => async () => {
      calls++;
      throw make();
    },
    { step: 'finalizeRequest', name: FAULT, priority: 'low' },
  );
  return () => calls;
}

const networkError = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8000'), { code: 'ECONNREFUSED' });
const sdkError = (name: string, status: number) =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

const charge = () =>
  invoke(usage, 'POST /v1/accounts/{accountId}/usage', {
    params: { accountId: subAccountId },
    token: stack.platformApiKey,
    headers: { 'idempotency-key': randomUUID() },
    body: { type: 'ai_response', quantity: 1 },
  });

describe('dependency failures', () => {
  it.each([
    ['connection refused → 503 service_unavailable', networkError, 503, 'service_unavailable'],
    ['a 500 from DynamoDB → 503 service_unavailable', () => sdkError('InternalServerError', 500), 503, 'service_unavailable'],
    ['throttling → 429 throttled', () => sdkError('ThrottlingException', 400), 429, 'throttled'],
    [
      'provisioned throughput exceeded → 429 throttled',
      () => sdkError('ProvisionedThroughputExceededException', 400),
      429,
      'throttled',
    ],
    [
      'a write that meets a transaction on every try → 503 try_again',
      () => sdkError('TransactionConflictException', 400),
      503,
      'try_again',
    ],
  ] as const)('%s, with Retry-After, nothing charged', async (_, make, status, code) => {
    const calls = failEveryCall(make);
    const res = await charge();
    expect(res.status).toBe(status);
    expect(res.body.code).toBe(code);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(calls()).toBeGreaterThan(0);
    dynamo.middlewareStack.remove(FAULT);
    await pipelineIdle(); // a debit that got through would be in the month's rollup by now
    const pool = await invoke(subs, 'GET /v1/sub-accounts/{subAccountId}', { params: { subAccountId }, token: agency.token });
    expect(pool.body.subAccount.creditsUsedThisMonth).toBe(0);
  });

  it('tries a write that met a transaction again (db/conflict-retry.ts), a bounded number of times', async () => {
    const { conflictRetryPolicy } = await import('#db/conflict-retry');
    const calls = failEveryCall(() => sdkError('TransactionConflictException', 400));
    expect((await charge()).status).toBe(503);
    // The charge's first call, tried as often as the policy says and no more; nothing after it.
    expect(calls()).toBe(conflictRetryPolicy.attempts);
  });

  it('answers an edit of a sub-account that changes under every try 503 try_again, the edit not made, nothing audited', async () => {
    const { db } = await import('#db/client');
    const { UpdateCommand } = await import('@aws-sdk/lib-dynamodb');
    const { accountKey } = await import('#db/items/account');
    const { table } = await import('#db/client');
    // Another writer renames the sub-account just before each of the edit's transactions, so
    // the name it read (and would record as "before") is never the name it would replace.
    let renames = 0;
    dynamo.middlewareStack.add(
      (next, context) => async (args) => {
        const items = (args.input as { TransactItems?: { Update?: { Key?: Record<string, unknown> } }[] }).TransactItems;
        const touchesSub = items?.some((i) => JSON.stringify(i.Update?.Key ?? {}).includes(subAccountId));
        if (context.commandName === 'TransactWriteItemsCommand' && touchesSub) {
          await db.send(
            new UpdateCommand({
              TableName: table(),
              Key: accountKey(subAccountId),
              UpdateExpression: 'SET #name = :name',
              ExpressionAttributeNames: { '#name': 'name' },
              ExpressionAttributeValues: { ':name': `Renamed ${++renames}` },
            }),
          );
        }
        return next(args);
      },
      { step: 'initialize', name: FAULT, priority: 'high' },
    );
    const res = await invoke(subs, 'PATCH /v1/sub-accounts/{subAccountId}', {
      params: { subAccountId },
      token: agency.token,
      body: { name: 'Never applied' },
    });
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('try_again');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(renames).toBe(5); // the edit read again and tried five times in all
    dynamo.middlewareStack.remove(FAULT);
    const sub = await invoke(subs, 'GET /v1/sub-accounts/{subAccountId}', { params: { subAccountId }, token: agency.token });
    expect(sub.body.subAccount.name).toBe('Renamed 5');
    const audit = await api('GET', `/v1/audit-log?target=${subAccountId}&action=sub_account.updated`, { token: agency.token });
    expect(audit.status).toBe(200);
    expect(audit.body.items).toEqual([]);
  });

  it('answers readiness 503 with no details while the table is unreachable, 200 once it answers', async () => {
    failEveryCall(networkError);
    const down = await invoke(publicFn, 'GET /v1/health/ready', {});
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ code: 'service_unavailable' });
    expect(JSON.stringify(down.body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|8000/);
    dynamo.middlewareStack.remove(FAULT);
    const up = await invoke(publicFn, 'GET /v1/health/ready', {});
    expect(up).toMatchObject({ status: 200, body: { status: 'ready' } });
    // Liveness never reads anything: it stays 200 either way.
    failEveryCall(networkError);
    expect((await invoke(publicFn, 'GET /v1/health', {})).status).toBe(200);
  });

  it('still answers a bug (an error no dependency would raise) with a bare 500', async () => {
    failEveryCall(() => new TypeError('Cannot read properties of undefined'));
    const res = await charge();
    expect(res.status).toBe(500);
    expect(res.body.code).toBe('internal_error');
  });
});
