import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { StreamPollerStatus } from '../../packages/local/stream-poller';
import { waitFor } from './api';
import { stack } from './stack';

const sqs = new SQSClient({
  endpoint: stack.sqsEndpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});

async function streamPoller(): Promise<StreamPollerStatus> {
  if (!stack.statusUrl) throw new Error('the test stack serves no poller status (pollerStatus)');
  const res = await fetch(`${stack.statusUrl}/stream-poller`);
  return (await res.json()) as StreamPollerStatus;
}

/** Messages the notifications queue holds in any state: visible, in flight (received, not deleted) or delayed. */
export async function queuedMessages(queueUrl = stack.queueUrls.notifications): Promise<number> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  const a = out.Attributes ?? {};
  return (
    Number(a.ApproximateNumberOfMessages ?? 0) +
    Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(a.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}

/**
 * Returns once nothing written before this call can still become an email: the stream poller
 * has finished a pass that began after the call and read every shard to its end (so every
 * outbox record committed before is in the queue, or was never for it), and then the queue
 * held no message at all, visible, in flight or delayed (so each was delivered, or dead-
 * lettered). Use it before asserting that an email did NOT arrive, instead of sleeping.
 */
export async function pipelineIdle(timeoutMs = 30_000): Promise<void> {
  const asked = (await streamPoller()).passes;
  await waitFor(async () => (await streamPoller()).caughtUpThrough > asked, timeoutMs, 'the stream poller to catch up');
  await waitFor(async () => (await queuedMessages()) === 0, timeoutMs, 'the notifications queue to be empty');
}
