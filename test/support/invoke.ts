import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { parseClockHeader, withClock } from '#core/clock';
import { findRoute, type RouteKey } from '#http/routes';
import { lambdaContext } from '#local/lambda-context';
import { checkResponse } from './contract';

type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * Calls a handler module in this test process, as Lambda would: a second "container" beside
 * the local gateway's, with its own module state, and a place to inject faults into its SDK
 * clients.
 */
export async function invoke(
  handler: Handler,
  key: RouteKey,
  opts: {
    params?: Record<string, string>;
    body?: unknown;
    token?: string;
    headers?: Record<string, string>;
    /** Run the call at this instant (ISO) or offset (`+ms`), as `x-test-clock` does over HTTP. */
    clock?: string;
  },
): Promise<{ status: number; body: any; headers: Record<string, string> }> {
  const route = findRoute(key);
  if (!route) throw new Error(`no route ${key}`);
  const rawPath = route.path.replace(/\{(\w+)\}/g, (_, name: string) => opts.params?.[name] ?? '');
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
    ...opts.headers,
  };
  const now = new Date();
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: key,
    rawPath,
    rawQueryString: '',
    headers,
    pathParameters: opts.params,
    requestContext: {
      accountId: 'test',
      apiId: 'test',
      domainName: 'test',
      domainPrefix: 'test',
      http: { method: route.method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' },
      requestId: randomUUID(),
      routeKey: key,
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    isBase64Encoded: false,
  };
  const clock = parseClockHeader(opts.clock);
  if (opts.clock && !clock) throw new Error(`not a clock setting: ${opts.clock}`);
  const run = () => handler(event, lambdaContext('test'));
  const result = await (clock ? withClock(clock, run) : run());
  const status = result.statusCode ?? 200;
  const resultHeaders = (result.headers ?? {}) as Record<string, string>;
  const body = result.body ? JSON.parse(result.body) : undefined;
  // In-process answers are held to the same published contract as HTTP ones.
  checkResponse({ method: route.method, path: rawPath, status, contentType: resultHeaders['content-type'], body });
  return { status, body, headers: resultHeaders };
}
