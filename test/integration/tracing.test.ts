import { createSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { traced } from '#core/tracing';
import { stack } from '../support/stack';

/**
 * SDK calls become X-Ray subsegments of the invocation's trace, sent to the daemon over UDP
 * (here a receiver on loopback), with the trace header propagated to the service; without a
 * sampled trace context nothing is sent.
 */
async function receiver() {
  const socket = createSocket('udp4');
  const messages: string[] = [];
  socket.on('message', (m) => messages.push(m.toString('utf8')));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: (socket.address() as AddressInfo).port, messages, close: () => socket.close() };
}

const saved = { ...process.env };
afterEach(() => {
  process.env._X_AMZN_TRACE_ID = saved._X_AMZN_TRACE_ID;
  process.env.AWS_XRAY_DAEMON_ADDRESS = saved.AWS_XRAY_DAEMON_ADDRESS;
  if (saved._X_AMZN_TRACE_ID === undefined) delete process.env._X_AMZN_TRACE_ID;
  if (saved.AWS_XRAY_DAEMON_ADDRESS === undefined) delete process.env.AWS_XRAY_DAEMON_ADDRESS;
});

const client = () => traced(new DynamoDBClient({ endpoint: stack.dynamoEndpoint, region: 'us-east-1' }));
const waitForMessages = async (list: string[], n: number) => {
  for (let i = 0; i < 50 && list.length < n; i++) await new Promise((r) => setTimeout(r, 20));
};

describe('AWS SDK tracing', () => {
  it('sends each call as a subsegment of the sampled trace, with the service, operation and status', async () => {
    const daemon = await receiver();
    process.env.AWS_XRAY_DAEMON_ADDRESS = `127.0.0.1:${daemon.port}`;
    process.env._X_AMZN_TRACE_ID = 'Root=1-67a0f3c1-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1';
    let sentHeader: string | undefined;
    const c = client();
    c.middlewareStack.add(
      (next) => async (args) => {
        sentHeader = (args.request as { headers: Record<string, string> }).headers['x-amzn-trace-id'];
        return next(args);
      },
      { step: 'finalizeRequest', name: 'peek' },
    );
    await c.send(new ListTablesCommand({}));
    await waitForMessages(daemon.messages, 1);
    daemon.close();

    expect(daemon.messages).toHaveLength(1);
    const [header, body] = (daemon.messages[0] ?? '').split('\n');
    expect(JSON.parse(header ?? '')).toEqual({ format: 'json', version: 1 });
    const segment = JSON.parse(body ?? '');
    expect(segment).toMatchObject({
      type: 'subsegment',
      namespace: 'aws',
      name: 'DynamoDB',
      trace_id: '1-67a0f3c1-0123456789abcdef01234567',
      parent_id: '53995c3f42cd8ad8',
      aws: { operation: 'ListTables' },
      http: { response: { status: 200 } },
    });
    expect(segment.id).toMatch(/^[0-9a-f]{16}$/);
    expect(segment.end_time).toBeGreaterThanOrEqual(segment.start_time);
    expect(sentHeader).toBe(`Root=1-67a0f3c1-0123456789abcdef01234567;Parent=${segment.id};Sampled=1`);
  });

  it('sends nothing without a trace context, or when the trace is not sampled', async () => {
    const daemon = await receiver();
    process.env.AWS_XRAY_DAEMON_ADDRESS = `127.0.0.1:${daemon.port}`;
    delete process.env._X_AMZN_TRACE_ID;
    await client().send(new ListTablesCommand({}));
    process.env._X_AMZN_TRACE_ID = 'Root=1-67a0f3c1-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=0';
    await client().send(new ListTablesCommand({}));
    // Then a sampled call, as a sentinel instead of a sleep: the module's one socket sends in
    // call order over loopback, so once its subsegment is in, any of the two above would be too.
    const sentinel = '1-67a0f3c1-fedcba9876543210fedcba98';
    process.env._X_AMZN_TRACE_ID = `Root=${sentinel};Parent=53995c3f42cd8ad8;Sampled=1`;
    await client().send(new ListTablesCommand({}));
    for (let i = 0; i < 50 && !daemon.messages.some((m) => m.includes(sentinel)); i++)
      await new Promise((r) => setTimeout(r, 20));
    daemon.close();
    expect(daemon.messages.map((m) => JSON.parse(m.split('\n')[1] ?? '{}').trace_id)).toEqual([sentinel]);
  });
});
