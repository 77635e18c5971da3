import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsClientDefaults } from '#core/aws-clients';
import { dependencyFailure } from '#core/dependency-errors';

/**
 * A dependency that takes the request and never answers becomes an error the caller can
 * answer 503 with, after the SDK's tries: never a function that waits until Lambda kills it.
 * (The SDK's HTTP handler only warns on a passed `requestTimeout` unless told to throw.)
 */
let server: Server;
let seen = 0;
beforeAll(async () => {
  server = createServer(() => {
    seen++; // takes the request, never answers
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('AWS SDK clients (core/aws-clients.ts)', () => {
  it('give up on a call that is never answered: TimeoutError after every try, answered 503', async () => {
    const { port } = server.address() as AddressInfo;
    const client = new DynamoDBClient({
      ...awsClientDefaults,
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const err = await client.send(new DescribeTableCommand({ TableName: 't' })).catch((e: Error) => e);
    client.destroy();
    expect(err).toMatchObject({ name: 'TimeoutError' });
    expect(seen).toBe(awsClientDefaults.maxAttempts);
    expect(dependencyFailure(err)).toMatchObject({ code: 'service_unavailable', status: 503 });
  }, 30_000);
});
