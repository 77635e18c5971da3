import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSqsServer } from 'local-aws-sqs';
import { queueDefinitions } from '#queues/definitions';
import { localAccountId, localRegion } from './aws-env';

export interface LocalQueues {
  endpoint: string;
  urls: Record<keyof typeof queueDefinitions, { queue: string; dlq: string }>;
  server: Server;
}

/**
 * local-aws-sqs with the queues of `queueDefinitions`: same names, DLQ and maxReceiveCount.
 * Only the visibility timeout is shortened (`visibilityTimeoutSeconds`) so that a failed
 * message comes back in seconds instead of minutes on a laptop.
 */
export async function startLocalQueues(port: number, visibilityTimeoutSeconds: number): Promise<LocalQueues> {
  const queues = Object.values(queueDefinitions).flatMap((q) => [
    { QueueName: q.dlqName, Attributes: { MessageRetentionPeriod: String(q.retentionDays * 86400) } },
    {
      QueueName: q.name,
      Attributes: {
        VisibilityTimeout: String(visibilityTimeoutSeconds),
        MessageRetentionPeriod: String(q.retentionDays * 86400),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: `arn:aws:sqs:${localRegion}:${localAccountId}:${q.dlqName}`,
          maxReceiveCount: q.maxReceiveCount,
        }),
      },
    },
  ]);
  const server = await createSqsServer({
    port,
    hostname: '127.0.0.1',
    region: localRegion,
    accountId: localAccountId,
    queues,
  } as never);
  const actualPort = (server.address() as AddressInfo).port;
  const endpoint = `http://127.0.0.1:${actualPort}`;
  const url = (name: string) => `${endpoint}/${localAccountId}/${name}`;
  const urls = Object.fromEntries(
    Object.entries(queueDefinitions).map(([key, q]) => [key, { queue: url(q.name), dlq: url(q.dlqName) }]),
  ) as LocalQueues['urls'];
  return { endpoint, urls, server };
}
