import { setTimeout as sleep } from 'node:timers/promises';
import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { localAccountId, localCredentials, localRegion } from './aws-env';
import { lambdaContext } from './lambda-context';

type QueueHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;

/**
 * Does for a local queue what Lambda's SQS event source does: receives batches, hands the
 * handler an `SQSEvent`, deletes what succeeded and leaves the `batchItemFailures` (or the
 * whole batch, when the handler throws) to come back after the visibility timeout, until the
 * queue's redrive policy moves them to the DLQ.
 */
export function startQueuePoller(opts: {
  endpoint: string;
  queueUrl: string;
  queueName: string;
  batchSize: number;
  handler: QueueHandler;
  functionName: string;
  log: (line: string) => void;
  /**
   * Batches handled at once (Lambda runs one container per batch, up to its concurrency):
   * with more than 1, a batch held by a slow handler does not hold the next one. Default 1.
   */
  concurrency?: number;
}): { stop(): Promise<void>; done: Promise<void> } {
  const concurrency = Math.max(1, opts.concurrency ?? 1);
  const inFlight = new Set<Promise<unknown>>();
  const client = new SQSClient({ endpoint: opts.endpoint, region: localRegion, credentials: localCredentials });
  const arn = `arn:aws:sqs:${localRegion}:${localAccountId}:${opts.queueName}`;
  let running = true;
  const stopped = new AbortController();

  async function pollOnce(): Promise<number> {
    if (inFlight.size >= concurrency) {
      await Promise.race(inFlight);
      return 1;
    }
    const out = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: opts.queueUrl,
        MaxNumberOfMessages: opts.batchSize,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = out.Messages ?? [];
    if (!messages.length) return 0;
    if (concurrency === 1) {
      await handleBatch(messages);
      return messages.length;
    }
    const batch = handleBatch(messages).catch((err) => opts.log(`${opts.functionName}: ${(err as Error).message}`));
    inFlight.add(batch);
    void batch.finally(() => inFlight.delete(batch));
    return messages.length;
  }

  async function handleBatch(messages: Message[]): Promise<void> {
    const records: SQSRecord[] = messages.map((m) => ({
      messageId: m.MessageId ?? '',
      receiptHandle: m.ReceiptHandle ?? '',
      body: m.Body ?? '',
      attributes: m.Attributes as unknown as SQSRecord['attributes'],
      messageAttributes: {},
      md5OfBody: m.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: arn,
      awsRegion: localRegion,
    }));
    let failed: Set<string>;
    try {
      const result = await opts.handler({ Records: records }, lambdaContext(opts.functionName));
      failed = new Set((result?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    } catch (err) {
      opts.log(`queue handler threw: ${(err as Error).message}`);
      failed = new Set(records.map((r) => r.messageId));
    }
    const done = messages.filter((m) => !failed.has(m.MessageId ?? ''));
    if (done.length) {
      await client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: opts.queueUrl,
          Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    }
    if (failed.size) opts.log(`${opts.functionName}: ${failed.size} message(s) failed, left for retry`);
  }

  // Outlives local SQS restarts: one line when it loses the queue, one when it has it again.
  const loop = (async () => {
    let failing = false;
    while (running) {
      let received = 0;
      try {
        received = await pollOnce();
        if (failing) opts.log(`queue poller: receiving from ${opts.queueName} again`);
        failing = false;
      } catch (err) {
        if (!running) break;
        if (!failing)
          opts.log(`queue poller: cannot receive from ${opts.queueName} (${(err as Error).message}); retrying until it answers`);
        failing = true;
      }
      if (!received) await sleep(failing ? 1000 : 100, undefined, { signal: stopped.signal }).catch(() => undefined);
    }
  })();

  return {
    done: loop,
    async stop() {
      running = false;
      stopped.abort();
      await loop;
      await Promise.allSettled([...inFlight]);
      client.destroy();
    },
  };
}
