import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';

/**
 * X-Ray subsegments for AWS SDK calls, in a few lines instead of the X-Ray SDK (which would add
 * about 125 KB and 40 ms of cold start to every function; see README). Lambda with active
 * tracing records each invocation's segment and hands its trace context to the function in
 * `_X_AMZN_TRACE_ID`; this middleware times every SDK call as a subsegment of it, sends it to
 * the X-Ray daemon Lambda runs beside the function (UDP, `AWS_XRAY_DAEMON_ADDRESS`, the
 * daemon's documented JSON protocol), and propagates the trace header to the AWS service, so
 * DynamoDB, SQS, SES and KMS appear in the service map. Outside Lambda (no trace context, or
 * not sampled) it does nothing.
 */
interface TraceContext {
  root: string;
  parent: string;
}

function traceContext(): TraceContext | undefined {
  const header = process.env._X_AMZN_TRACE_ID;
  if (!header) return undefined;
  const parts = Object.fromEntries(header.split(';').map((kv) => kv.split('=') as [string, string]));
  if (!parts.Root || !parts.Parent || parts.Sampled !== '1') return undefined;
  return { root: parts.Root, parent: parts.Parent };
}

let socket: Socket | undefined;
function daemon(): { host: string; port: number } {
  // `host:port`, or `tcp:host:port udp:host:port` (the UDP one is ours).
  const raw = process.env.AWS_XRAY_DAEMON_ADDRESS ?? '127.0.0.1:2000';
  const udp =
    raw
      .split(' ')
      .find((p) => p.startsWith('udp:'))
      ?.slice(4) ?? raw;
  const at = udp.lastIndexOf(':');
  return { host: udp.slice(0, at), port: Number(udp.slice(at + 1)) };
}

function send(document: Record<string, unknown>): void {
  const { host, port } = daemon();
  socket ??= createSocket('udp4').unref();
  socket.send(`{"format":"json","version":1}\n${JSON.stringify(document)}`, port, host);
}

type Middleware = (
  next: (args: { request: unknown }) => Promise<{ response: unknown; output?: unknown }>,
  context: { clientName?: string; commandName?: string },
) => (args: { request: unknown }) => Promise<{ response: unknown; output?: unknown }>;

interface TraceableClient {
  middlewareStack: { add(mw: Middleware, options: { step: 'build'; name: string }): void };
  config: { serviceId?: string };
}

/** Traces a client's calls; returns it, for `export const db = traced(new DynamoDBClient({}))`. */
export function traced<C>(client: C): C {
  (client as unknown as TraceableClient).middlewareStack.add(
    (next, context) => async (args) => {
      const trace = traceContext();
      if (!trace) return next(args);
      const id = randomBytes(8).toString('hex');
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers) request.headers['x-amzn-trace-id'] = `Root=${trace.root};Parent=${id};Sampled=1`;
      const start = Date.now() / 1000;
      const service = (context.clientName ?? 'AWS').replace(/Client$/, '');
      const operation = (context.commandName ?? 'Call').replace(/Command$/, '');
      let status: number | undefined;
      let requestId: string | undefined;
      try {
        const out = await next(args);
        status = (out.response as { statusCode?: number }).statusCode;
        requestId = (out.output as { $metadata?: { requestId?: string } } | undefined)?.$metadata?.requestId;
        return out;
      } catch (err) {
        status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        requestId = (err as { $metadata?: { requestId?: string } }).$metadata?.requestId;
        throw err;
      } finally {
        send({
          id,
          name: service,
          trace_id: trace.root,
          parent_id: trace.parent,
          type: 'subsegment',
          namespace: 'aws',
          start_time: start,
          end_time: Date.now() / 1000,
          aws: { operation, request_id: requestId, region: process.env.AWS_REGION },
          ...(status ? { http: { response: { status } } } : {}),
          ...(status === 429 || status === 400 ? { error: true, ...(status === 429 ? { throttle: true } : {}) } : {}),
          ...(status === undefined || status >= 500 ? { fault: true } : {}),
        });
      }
    },
    { step: 'build', name: 'xrayTrace' },
  );
  return client;
}
