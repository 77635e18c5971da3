import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from '#local/lambda-context';
import { type AgencyFixture, createSubAccount, signUpAgency } from '../support/api';
import { stack } from '../support/stack';

/**
 * Observability the Powertools way, seen from outside: a log line of a request carries the
 * Lambda request id, the API request id (correlation id) and the route; a debit publishes EMF
 * metrics (one JSON line, CloudWatch's embedded metric format). In-process invocations, with
 * metrics switched on for this worker and stdout captured.
 */
type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

let agency: AgencyFixture;
let subAccountId: string;
beforeAll(async () => {
  agency = await signUpAgency('agency');
  ({ subAccountId } = await createSubAccount(agency.token));
  await fetch(`${stack.apiUrl}/v1/admin/agencies/${agency.agencyId}/credits`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${stack.platformApiKey}`,
      'idempotency-key': randomUUID(),
      'content-type': 'application/json',
    },
    body: JSON.stringify({ credits: 100, reference: 'observability' }),
  });
});
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

function event(
  routeKey: string,
  path: string,
  params: Record<string, string>,
  opts: { token: string; body?: unknown; key?: string },
) {
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: '',
    headers: {
      authorization: `Bearer ${opts.token}`,
      'content-type': 'application/json',
      ...(opts.key ? { 'idempotency-key': opts.key } : {}),
    },
    pathParameters: params,
    requestContext: { requestId: `api-${randomUUID()}`, routeKey, http: { method: 'POST', path } },
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2;
}

/** Fresh handler modules (so the logger and metrics read the stubbed env), and every stdout and stderr line. */
async function capture(fn: string) {
  vi.resetModules();
  const lines: string[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    });
  }
  const mod = (await import(`../../functions/http/${fn}.ts`)) as { handler: Handler };
  return { handler: mod.handler, json: () => lines.flatMap((l) => (l.startsWith('{') ? [JSON.parse(l)] : [])) };
}

describe('observability', () => {
  it('tags a request log line with the Lambda request id, the API request id and the route', async () => {
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'WARN');
    const { handler, json } = await capture('usage');
    const routeKey = 'POST /v1/accounts/{accountId}/usage';
    const context = lambdaContext('usage');
    // A 503 is logged (warn) once, with its cause; a retry budget of 0 ms forces it.
    const e = event(
      routeKey,
      `/v1/accounts/${subAccountId}/usage`,
      { accountId: subAccountId },
      {
        token: stack.platformApiKey,
        body: { type: 'ai_response', quantity: 1 },
        key: randomUUID(),
      },
    );
    const res = await handler(e, { ...context, getRemainingTimeInMillis: () => 800 });
    expect(res.statusCode).toBe(503);
    const line = json().find((l) => l.message === 'request not served');
    expect(line).toMatchObject({
      level: 'WARN',
      function_request_id: context.awsRequestId,
      correlation_id: e.requestContext.requestId,
      route: routeKey,
      code: 'try_again',
    });
  });

  it('publishes EMF metrics for a debit: Debits and CreditsDebited in the AgencyAccounts namespace', async () => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    const { handler, json } = await capture('usage');
    const routeKey = 'POST /v1/accounts/{accountId}/usage';
    const res = await handler(
      event(
        routeKey,
        `/v1/accounts/${subAccountId}/usage`,
        { accountId: subAccountId },
        {
          token: stack.platformApiKey,
          body: { type: 'ai_response', quantity: 3 },
          key: randomUUID(),
        },
      ),
      lambdaContext('usage'),
    );
    expect(res.statusCode).toBe(201);
    const emf = json().find((l) => l._aws?.CloudWatchMetrics);
    expect(emf?._aws.CloudWatchMetrics[0].Namespace).toBe('AgencyAccounts');
    expect(emf).toMatchObject({ Debits: 1, CreditsDebited: 3 });
  });
});
