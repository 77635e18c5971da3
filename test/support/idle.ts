import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { LocalStackInfo, StreamPollersStatus } from '#local/stack';

/**
 * "Idle" for any local stack (the shared test stack: support/pipeline.ts; a stack a test started
 * itself): nothing committed before the call can still produce an email, a webhook delivery or
 * a change of the usage rollups (what the dashboards and creditsUsedThisMonth read).
 * No import of support/stack here, so a file with its own stack can use it without taking on
 * the shared stack's environment.
 */
export type IdleTarget = Pick<LocalStackInfo, 'statusUrl' | 'sqsEndpoint' | 'queueUrls'>;

/**
 * The deepest chain of stream stages the stack has, with room: a wallet drop → the detector
 * opens a request and writes its delivery → the detector queues that delivery → the sender,
 * failing, writes an outbox item → the forwarder queues the email. Three stream stages.
 */
const MAX_ROUNDS = 5;

const clients = new Map<string, SQSClient>();
const sqsOf = (endpoint: string) => {
  let client = clients.get(endpoint);
  if (!client) {
    client = new SQSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    clients.set(endpoint, client);
  }
  return client;
};

/** Messages a queue holds in any state: visible, in flight (received, not deleted: its handler may be running) or delayed. */
export async function queuedMessages(target: Pick<IdleTarget, 'sqsEndpoint'>, queueUrl: string): Promise<number> {
  const out = await sqsOf(target.sqsEndpoint).send(
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
 * Wakes the stack's stream pollers from their idle pause (Lambda's pace, 250 ms): reading their
 * status does. For a test about to wait on the pipeline (an email, a delivery), without waiting here.
 */
export function wakeStreamPollers(target: Pick<IdleTarget, 'statusUrl'>): void {
  if (target.statusUrl)
    void fetch(`${target.statusUrl}/stream-pollers`).then(
      (r) => r.body?.cancel(),
      () => undefined,
    );
}

async function streamPollers(target: IdleTarget): Promise<StreamPollersStatus> {
  if (!target.statusUrl) throw new Error('the stack serves no poller status (start it with pollerStatus)');
  return (await (await fetch(`${target.statusUrl}/stream-pollers`)).json()) as StreamPollersStatus;
}

async function until(probe: () => Promise<boolean>, deadline: number, label: string): Promise<void> {
  while (!(await probe())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Returns once nothing written before this call can still become an email, a webhook delivery
 * or a usage rollup, across EVERY poller and queue of the stack: the main stream poller (outbox
 * → notifications queue), the recharge stream poller (wallet drops, delivery inserts → webhooks
 * queue), the usage-rollups stream poller (usage entries → the rollups; a poller still holding
 * records for its batching window has not caught up), and both queues, whose handlers write to
 * the table again (a failed delivery's email).
 *
 * In rounds: (1) every queue empty, visible, in flight or delayed (each message handled and
 * deleted: a retry is enqueued before its message is deleted, so it is counted too); (2) every
 * stream poller finished a pass that began after (1) and read each shard to its end (so it
 * handled every record written before (1), the queue handlers' writes among them). A round
 * in which no stream handler returned from any record (`handled` unchanged from before (1)
 * to after (2)) proves there is nothing left: no handler was running, nothing was unread and
 * nothing queued. On a busy stack (other tests' traffic) that proof may never come; then
 * MAX_ROUNDS rounds carry any chain of up to that many stream stages to its end, and a last
 * check of the queues carries its last messages. Use it before asserting that something did
 * NOT happen, instead of sleeping.
 */
export async function stackIdle(target: IdleTarget, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  const { notifications, webhooks } = target.queueUrls;
  const queuesEmpty = async () =>
    (await queuedMessages(target, notifications)) === 0 && (await queuedMessages(target, webhooks)) === 0;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const before = await streamPollers(target);
    await until(queuesEmpty, deadline, 'the notifications and webhooks queues to be empty');
    const asked = await streamPollers(target);
    const names = Object.keys(asked) as (keyof StreamPollersStatus)[];
    await until(
      async () => {
        const now = await streamPollers(target);
        return names.every((n) => now[n].caughtUpThrough > asked[n].passes);
      },
      deadline,
      `the stream pollers (${names.join(', ')}) to catch up`,
    );
    const after = await streamPollers(target);
    if (names.every((n) => after[n].handled === before[n].handled)) return;
  }
  await until(queuesEmpty, deadline, 'the notifications and webhooks queues to be empty');
}
