import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { dynamo as Dynamo } from '#db/client';
import { matchRoute } from '#http/routes';
import type { loadFunction as LoadFunction } from '#local/gateway';
import { lambdaContext } from '#local/lambda-context';
import type { WorkerHandlers } from '#local/workers';
import type { StreamWindowEvent } from '#queues/definitions';
import { uniqueEmail } from '../support/api';
import '../support/stack';

/**
 * Each log line carries only its own invocation's context, in the one-process local stack too,
 * where every function shares one logger module. An HTTP request (a login, which appends its
 * route and correlation id) and a queue batch (the webhook sender's) run interleaved in this
 * process, through the same in-process paths as the stack's gateway and pollers. Each is held
 * at its first DynamoDB call; the test then fails those calls in the order it picks, so each
 * logs one warning while the other is in flight. A stream batch (the usage rollups', windowed)
 * logs while a login is held the same way.
 */
const LOGIN = 'POST /v1/auth/login';
const loginFn = matchRoute('POST', '/v1/auth/login').route?.fn ?? 'public';

type Line = Record<string, unknown>;
const lines: Line[] = [];
let dynamo: typeof Dynamo;
let loadFunction: typeof LoadFunction;
let workers: WorkerHandlers;

/** Holds the next `count` DynamoDB calls, in arrival order, until the test fails each (AWS throttling). */
function holdDynamoCalls(count: number) {
  const held: Array<() => void> = [];
  const waiters: Array<() => void> = [];
  const name = `test-hold-${randomUUID()}`;
  dynamo.middlewareStack.add(
    (next) => (args) =>
      held.length >= count
        ? next(args)
        : new Promise<never>((_, reject) => {
            held.push(() => reject(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client' })));
            for (const wake of waiters.splice(0)) wake();
          }),
    { step: 'initialize', name },
  );
  return {
    /** Resolves once `n` calls are waiting. */
    async waiting(n: number): Promise<void> {
      while (held.length < n) await new Promise<void>((resolve) => waiters.push(resolve));
    },
    fail: (i: number) => held[i]?.(),
    release: () => dynamo.middlewareStack.remove(name),
  };
}

function loginEvent(requestId: string): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: LOGIN,
    rawPath: '/v1/auth/login',
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    requestContext: { requestId, routeKey: LOGIN, http: { method: 'POST', path: '/v1/auth/login' } },
    body: JSON.stringify({ email: uniqueEmail('log-context'), password: 'correct horse battery staple' }),
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2;
}

function deliveryBatch(): SQSEvent {
  const body = JSON.stringify({ agencyId: `agc_${randomUUID()}`, deliveryId: `whd_${randomUUID()}`, attempt: 1 });
  return { Records: [{ messageId: randomUUID(), body, attributes: {}, messageAttributes: {} }] } as unknown as SQSEvent;
}

/** A windowed stream batch, as the usage rollups' event source sends it, of one insert that is no usage entry. */
function notUsageBatch(): StreamWindowEvent {
  return {
    shardId: `shard-${randomUUID()}`,
    state: {},
    Records: [
      {
        eventID: randomUUID(),
        eventName: 'INSERT',
        dynamodb: { SequenceNumber: '1', NewImage: { pk: { S: `TEST#${randomUUID()}` }, sk: { S: 'NOT-USAGE' } } },
      },
    ],
  };
}

beforeAll(async () => {
  // Every line, warnings included (stderr); then fresh modules, so the logger reads the WARN level.
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      for (const line of String(chunk).split('\n')) if (line.startsWith('{')) lines.push(JSON.parse(line));
      return true;
    });
  }
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'WARN');
  vi.resetModules();
  ({ dynamo } = await import('#db/client'));
  ({ loadFunction } = await import('#local/gateway'));
  // In this process, as the one-process stack runs them.
  workers = await (await import('#local/workers')).workerHandlers(undefined);
});
afterAll(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('log context, HTTP and queue invocations interleaved in one process', () => {
  it.each(['the queue batch', 'the HTTP request'])('%s logs first: every line names its own invocation', async (first) => {
    const http = { event: loginEvent(`api-${randomUUID()}`), context: lambdaContext(loginFn) };
    const queue = { event: deliveryBatch(), context: lambdaContext('webhook-sender') };
    const hold = holdDynamoCalls(2);
    const before = lines.length;
    let answered: Promise<unknown>;
    let processed: Promise<unknown>;
    try {
      const handler = await loadFunction(loginFn);
      answered = handler(http.event, http.context); // route and correlation id appended, then held
      await hold.waiting(1);
      processed = workers.sender(queue.event, queue.context);
      await hold.waiting(2);
      if (first === 'the queue batch') {
        hold.fail(1);
        await processed;
        hold.fail(0);
        await answered;
      } else {
        hold.fail(0);
        await answered;
        hold.fail(1);
        await processed;
      }
    } finally {
      hold.release();
    }
    expect(await answered).toMatchObject({ statusCode: 429 });
    expect(await processed).toMatchObject({ batchItemFailures: [{ itemIdentifier: queue.event.Records[0]?.messageId }] });

    const expected: Record<string, Line> = {
      'dependency failed': {
        function_name: loginFn,
        function_request_id: http.context.awsRequestId,
        correlation_id: http.event.requestContext.requestId,
        route: LOGIN,
      },
      'webhook message failed': {
        function_name: 'webhook-sender',
        function_request_id: queue.context.awsRequestId,
        correlation_id: undefined,
        route: undefined,
      },
    };
    expectLines(lines.slice(before), expected);
  });
});

describe('log context, an HTTP request and a stream batch interleaved in one process', () => {
  it('a usage rollups batch logs while a request is in flight: its line names its own invocation', async () => {
    const http = { event: loginEvent(`api-${randomUUID()}`), context: lambdaContext(loginFn) };
    const stream = { event: notUsageBatch(), context: lambdaContext('usage-rollups') };
    const hold = holdDynamoCalls(1);
    const before = lines.length;
    let answered: Promise<unknown>;
    try {
      const handler = await loadFunction(loginFn);
      answered = handler(http.event, http.context); // route and correlation id appended, then held
      await hold.waiting(1);
      // Not a usage entry: logged and left out, nothing read or written.
      expect(await workers.rollups(stream.event, stream.context)).toEqual({ state: {}, batchItemFailures: [] });
      hold.fail(0);
      expect(await answered).toMatchObject({ statusCode: 429 });
    } finally {
      hold.release();
    }
    expectLines(lines.slice(before), {
      'not a usage entry; left out of the rollups': {
        function_name: 'usage-rollups',
        function_request_id: stream.context.awsRequestId,
        correlation_id: undefined,
        route: undefined,
      },
      'dependency failed': {
        function_name: loginFn,
        function_request_id: http.context.awsRequestId,
        correlation_id: http.event.requestContext.requestId,
        route: LOGIN,
      },
    });
  });
});

/** Exactly the expected messages, each line with its own invocation's function, request id, correlation id and route. */
function expectLines(logged: Line[], expected: Record<string, Line>) {
  expect(logged.map((l) => l.message).sort()).toEqual(Object.keys(expected).sort());
  for (const line of logged) {
    const context = {
      function_name: line.function_name,
      function_request_id: line.function_request_id,
      correlation_id: line.correlation_id,
      route: line.route,
    };
    expect([line.message, context]).toEqual([line.message, expected[line.message as string]]);
  }
}

describe('in-process containers: several copies of the local runtime in one process', () => {
  // test/support/containers.ts loads the gateway afresh per container (vi.resetModules), so one
  // process holds several copies of packages/local/invocations.ts; Powertools reads the one
  // global store, so every copy must run its invocations in that one.
  it('each copy runs its invocations in the store Powertools reads', async () => {
    const copies: Array<typeof import('#local/invocations')> = [];
    for (let i = 0; i < 2; i++) {
      vi.resetModules();
      copies.push(await import('#local/invocations'));
    }
    expect(copies[0]).not.toBe(copies[1]);
    const requestIdIn = (copy: (typeof copies)[number]) => {
      const context = lambdaContext('public');
      return [copy.asInvocation(context, () => awslambda.InvokeStore?.getRequestId()), context.awsRequestId];
    };
    // Each copy's first invocation, then each one's next: none may see another copy's store.
    for (const copy of [...copies, ...copies]) {
      const [seen, own] = requestIdIn(copy);
      expect(seen).toBe(own);
    }
  });
});
