import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { type ClockSetting, parseClockHeader, withClock } from '#core/clock';
import { AppError } from '#core/errors';
import { problem } from '#http/response';
import { type HttpFunction, matchRoute } from '#http/routes';
import { serveApiReference } from './api-reference';
import { serveConsole } from './console-static';
import { asInvocation } from './invocations';
import { lambdaContext } from './lambda-context';
import { PoolBusyError } from './lambda-pool';

type HttpHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

const MAX_BODY_BYTES = 1024 * 1024;
/** Lambda refuses a synchronous response larger than this, as serialized; API Gateway then answers 500. */
export const LAMBDA_RESPONSE_LIMIT_BYTES = 6_291_556;
const TEXT_TYPES = /^(application\/(.+\+)?(json|xml|x-www-form-urlencoded)|text\/)/i;

/**
 * Loads a function module the way Lambda would: once, on first use (its "cold start"), and
 * runs each call as its own invocation (invocations.ts) under its deployed policy's table keys
 * (packages/db/access.ts). Exported for tests that drive an in-process invocation by hand.
 */
const modules = new Map<string, Promise<HttpHandler>>();
export function loadFunction(fn: HttpFunction): Promise<HttpHandler> {
  let mod = modules.get(fn);
  if (!mod) {
    mod = Promise.all([import(`../../functions/http/${fn}.ts`), import('./table-access')]).then(
      ([m, access]: [{ handler: HttpHandler }, typeof import('./table-access')]) => {
        access.enforceTableAccess();
        return (event, context) => asInvocation(context, () => access.asFunction(fn, () => m.handler(event, context)));
      },
    );
    modules.set(fn, mod);
  }
  return mod;
}

/** Runs a function elsewhere (the local Lambda runtime's container processes) instead of in this process. */
export type RemoteInvoke = (fn: HttpFunction, event: APIGatewayProxyEventV2, clock?: ClockSetting) => Promise<unknown>;

/**
 * A local API Gateway (HTTP API, payload 2.0): matches the request against the route table,
 * builds the same event API Gateway would and invokes the same handler module, in this process
 * or, with `invoke`, in a container process of the local Lambda runtime. Unmatched requests go
 * to the `$default` (fallback) function, as deployed.
 */
export async function startGateway(
  port: number,
  log: (line: string) => void = () => {},
  opts: { testClock?: boolean; consoleDist?: string; invoke?: RemoteInvoke } = {},
): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const started = performance.now();
    // The API reference page (/docs), then the web console at the same origin (CloudFront deployed): everything but /v1/*.
    if (serveApiReference(req, res)) return;
    if (opts.consoleDist && serveConsole(opts.consoleDist, req, res)) return;
    // The test stack lets a request pin the clock it runs under (never `npm start`, never deployed).
    const clock = opts.testClock ? parseClockHeader(headerValue(req.headers[CLOCK_HEADER])) : undefined;
    handle(req, res, clock, opts.invoke)
      .catch((err: Error) => {
        // PoolBusyError: Lambda at its concurrency limit for longer than the runtime lets a request wait.
        const busy = err instanceof PoolBusyError;
        log(busy ? `gateway: ${err.message}` : `gateway error: ${err.stack ?? err.message}`);
        if (res.headersSent) return void res.end();
        send(res, problem(new AppError(busy ? 'service_unavailable' : 'internal_error')));
      })
      .finally(() => log(`${req.method} ${req.url} → ${res.statusCode} ${(performance.now() - started).toFixed(0)}ms`));
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject); // a taken port fails the start with its error, not the process
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** Test stack only: `x-test-clock: <ISO instant>` or `x-test-clock: +<ms>` runs the request at that time. */
export const CLOCK_HEADER = 'x-test-clock';
const headerValue = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  clock: ClockSetting | undefined,
  invoke: RemoteInvoke | undefined,
): Promise<void> {
  const body = await readBody(req);
  if (body === 'too_large') {
    // API Gateway refuses bodies over its own limit before any function runs.
    send(res, problem(new AppError('payload_too_large', 'body: larger than 1 MiB')));
    return;
  }
  const url = new URL(req.url ?? '/', 'http://localhost');
  const method = req.method ?? 'GET';
  const match = matchRoute(method, url.pathname);
  const fn: HttpFunction = match.route?.fn ?? 'fallback';
  const routeKey = match.route ? `${match.route.method} ${match.route.path}` : '$default';
  const event = toEvent(req, url, routeKey, match.route ? match.params : undefined, body);
  let result: APIGatewayProxyStructuredResultV2;
  if (invoke) result = (await invoke(fn, event, clock)) as APIGatewayProxyStructuredResultV2;
  else {
    const handler = await loadFunction(fn);
    const run = () => handler(event, lambdaContext(fn));
    result = await (clock ? withClock(clock, run) : run());
  }
  if (Buffer.byteLength(JSON.stringify(result)) > LAMBDA_RESPONSE_LIMIT_BYTES) {
    // As deployed: the function's answer never reaches the client.
    throw new Error(`${routeKey}: the response exceeds Lambda's ${LAMBDA_RESPONSE_LIMIT_BYTES}-byte payload limit`);
  }
  send(res, result);
}

function send(res: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  res.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>);
  res.end(result.body === undefined ? undefined : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8'));
}

function readBody(req: IncomingMessage): Promise<Buffer | 'too_large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? 'too_large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function toEvent(
  req: IncomingMessage,
  url: URL,
  routeKey: string,
  pathParameters: Record<string, string> | undefined,
  body: Buffer,
): APIGatewayProxyEventV2 {
  // API Gateway lower-cases header names and joins repeated headers and query values with commas.
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name === 'cookie' || name === CLOCK_HEADER) continue;
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = k in query ? `${query[k]},${v}` : v;
  const isText = body.length === 0 || TEXT_TYPES.test(headers['content-type'] ?? 'application/json');
  const now = new Date();
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    cookies: req.headers.cookie?.split(';').map((c) => c.trim()),
    headers,
    queryStringParameters: Object.keys(query).length ? query : undefined,
    pathParameters,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    body: body.length ? body.toString(isText ? 'utf8' : 'base64') : undefined,
    isBase64Encoded: !isText,
  };
}
