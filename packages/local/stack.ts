import type { Server } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { queueDefinitions } from '../queues/definitions';
import { localCredentials, localRegion } from './aws-env';
import { ensureTable, startDynamoLocal } from './dynamodb';
import { startGateway } from './gateway';
import { startQueuePoller } from './queue-poller';
import { loadLocalSecrets } from './secrets';
import { startLocalSes } from './ses';
import { startLocalQueues } from './sqs';
import { startStreamPoller } from './stream-poller';

export interface LocalStackOptions {
  /** Where DynamoDB data and local secrets live; undefined = all in memory (tests). */
  dataDir?: string;
  /** Keep secrets under dataDir but the database in memory. */
  inMemoryDb?: boolean;
  ports?: { api?: number; ses?: number; dynamodb?: number; sqs?: number };
  tableName?: string;
  /** Local stand-in for the queue's visibility timeout, so retries come back in seconds. */
  queueVisibilitySeconds?: number;
  log?: (line: string) => void;
  accessLog?: boolean;
  /** Let requests pin the clock with the `x-test-clock` header (the test stack only). */
  testClock?: boolean;
}

export interface LocalStack {
  apiUrl: string;
  sesUrl: string;
  dynamoEndpoint: string;
  sqsEndpoint: string;
  tableName: string;
  queueUrls: { notifications: string; notificationsDlq: string };
  platformApiKey: string;
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** Fails fast with a clear message when a configured port is taken. */
export async function assertPortFree(port: number, name: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', () => reject(new Error(`port ${port} (${name}) is already in use; set ${name} to another port`)));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve()));
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

const closeServer = (s: Server) => new Promise<void>((resolve) => s.close(() => resolve()));

/**
 * Starts the whole system on this machine: DynamoDB Local, local SQS and SES, the gateway
 * and both pollers, and points the AWS SDK of this process (which runs every handler) at
 * them through the standard AWS_ENDPOINT_URL_* variables: handlers cannot tell they are local.
 */
export async function startLocalStack(opts: LocalStackOptions = {}): Promise<LocalStack> {
  const log = opts.log ?? (() => {});
  const tableName = opts.tableName ?? 'agency-accounts';
  const secrets = loadLocalSecrets(opts.dataDir);
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };

  const fixed = {
    PORT: opts.ports?.api,
    SES_PORT: opts.ports?.ses,
    DYNAMODB_PORT: opts.ports?.dynamodb,
    SQS_PORT: opts.ports?.sqs,
  };
  for (const [name, port] of Object.entries(fixed)) if (port) await assertPortFree(port, name);

  try {
    const dynamo = await startDynamoLocal(
      opts.ports?.dynamodb || (await freePort()),
      opts.dataDir && !opts.inMemoryDb ? join(opts.dataDir, 'dynamodb') : undefined,
    );
    stops.push(dynamo.stop);
    const streamArn = await ensureTable(dynamo.endpoint, tableName);

    const queues = await startLocalQueues(opts.ports?.sqs ?? 0, opts.queueVisibilitySeconds ?? 5);
    stops.push(() => closeServer(queues.server));
    const ses = await startLocalSes(opts.ports?.ses ?? 0);
    stops.push(() => closeServer(ses.server));

    const apiPort = opts.ports?.api ?? (await freePort());
    const env: Record<string, string> = {
      AWS_REGION: localRegion,
      AWS_ACCESS_KEY_ID: localCredentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: localCredentials.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SQS: queues.endpoint,
      AWS_ENDPOINT_URL_SES: ses.endpoint,
      TABLE_NAME: tableName,
      NOTIFICATIONS_QUEUE_URL: queues.urls.notifications.queue,
      TOKEN_SECRET: secrets.tokenSecret,
      PLATFORM_API_KEY: secrets.platformApiKey,
      LOCAL_ENCRYPTION_KEY: secrets.encryptionKey,
      EMAIL_FROM: process.env.EMAIL_FROM || 'no-reply@agency-accounts.local',
      APP_LOGIN_URL: process.env.APP_LOGIN_URL || `http://127.0.0.1:${apiPort}/v1/auth/login`,
      // EMF metrics are one stdout line per invocation: noise locally unless asked for.
      POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
    };
    Object.assign(process.env, env);

    const gateway = await startGateway(apiPort, opts.accessLog ? log : () => {}, { testClock: opts.testClock });
    stops.push(() => closeServer(gateway.server));

    // Imported only now: like a Lambda cold start, these modules read their env on import.
    const { handler: forwarder } = await import('../../functions/stream/forwarder');
    const { handler: notifier } = await import('../../functions/queue/notifier');
    const streamPoller = startStreamPoller({ endpoint: dynamo.endpoint, streamArn, handler: forwarder, log });
    stops.push(streamPoller.stop);
    const def = queueDefinitions.notifications;
    const queuePoller = startQueuePoller({
      endpoint: queues.endpoint,
      queueUrl: queues.urls.notifications.queue,
      queueName: def.name,
      batchSize: def.batchSize,
      handler: notifier,
      functionName: 'notifier',
      log,
    });
    stops.push(queuePoller.stop);

    return {
      apiUrl: gateway.url,
      sesUrl: ses.endpoint,
      dynamoEndpoint: dynamo.endpoint,
      sqsEndpoint: queues.endpoint,
      tableName,
      queueUrls: { notifications: queues.urls.notifications.queue, notificationsDlq: queues.urls.notifications.dlq },
      platformApiKey: secrets.platformApiKey,
      env,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
