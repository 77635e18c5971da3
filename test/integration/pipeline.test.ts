/**
 * The outbox pipeline (table → stream → forwarder → queue → notifier → SES) keeps its promise:
 * every committed outbox event is carried out exactly once, a failure is retried without
 * duplicates, a poison message ends in the DLQ, and a request that fails sends nothing.
 *
 * Determinism: the stack's own pollers forward EVERY inserted outbox item and deliver it
 * concurrently with anything this file does. Where the test must control each delivery (the
 * injected failure), the item is written with a `kind` outside the stream filter, so only the
 * in-process invocations below ever see it; where the real pipeline is under test, "nothing
 * more will arrive" is decided by the pipeline itself, never by sleeping: every stream poller
 * caught up past the writes and every queue empty (support/pipeline.ts `pipelineIdle`).
 */

import { randomUUID } from 'node:crypto';
import type { SESClient, SendEmailCommandInput } from '@aws-sdk/client-ses';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { withClock } from '#core/clock';
import { newId } from '#core/ids';
import { seal } from '#crypto/secret-box';
import { dynamo } from '#db/client';
import type { AgencyItem } from '#db/items/account';
import { outboxKey, putOutbox } from '#db/items/outbox';
import { createSubAccount as createSubAccountInProcess } from '#domain/accounts/sub-accounts';
import { newOutboxId } from '#domain/outbox';
import { lambdaContext } from '#local/lambda-context';
import { queueDefinitions } from '#queues/definitions';
import { api, emailsTo, signUpAgency, uniq, uniqueEmail, waitFor } from '../support/api';
import { pipelineIdle } from '../support/pipeline';
import { deliveriesOf, rechargeSetup, saveEndpoint } from '../support/recharge';
import { stack } from '../support/stack';
import { getRaw, testDb } from '../support/table';
import { startReceiver } from '../support/webhook-receiver';

type Notifier = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
let notifier: Notifier;
let ses: SESClient;
let leaseMs: number;
let deliverOutboxEvent: (id: string) => Promise<string>;

const sqs = new SQSClient({
  endpoint: stack.sqsEndpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});

beforeAll(async () => {
  // Imported after support/stack has pointed this process at the stack (the modules read env on import).
  ({ handler: notifier } = (await import('../../functions/queue/notifier')) as { handler: Notifier });
  ({ ses, OUTBOX_LEASE_MS: leaseMs, deliverOutboxEvent } = await import('#domain/notifications/deliver'));
});

/**
 * A credentials outbox item written as the domain writes it (putOutbox + seal). `held` gives it
 * a kind the stream filter ignores, so the stack's pollers never deliver it: this test does.
 */
async function writeOutbox(to: string, { held }: { held: boolean }) {
  const id = newOutboxId();
  const password = uniq('pw');
  const event = {
    type: 'sub_account.credentials' as const,
    subAccountId: newId('subAccount'),
    agencyId: newId('agency'),
    agencyName: 'Pipeline Agency',
    clientName: 'Pipeline Client',
    to,
    sealedPassword: await seal(password, id),
  };
  const item = putOutbox(id, event, new Date()).write.Put!.Item!;
  await testDb.send(new PutCommand({ TableName: stack.tableName, Item: held ? { ...item, kind: 'outbox_held_by_test' } : item }));
  return { id, password };
}

const outboxItem = (id: string) => getRaw(outboxKey(id).pk, outboxKey(id).sk);
const messageFor = (outboxId: string) => JSON.stringify({ outboxId, type: 'sub_account.credentials' });

function sqsEvent(...bodies: string[]): SQSEvent {
  const now = String(Date.now());
  return {
    Records: bodies.map((body) => ({
      messageId: randomUUID(),
      receiptHandle: randomUUID(),
      body,
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: now, SenderId: 'test', ApproximateFirstReceiveTimestamp: now },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:us-east-1:123456789012:${queueDefinitions.notifications.name}`,
      awsRegion: 'us-east-1',
    })),
  };
}

/** Makes this process's SES client fail the next send to `address`, once, before it leaves. */
function failNextSendTo(address: string) {
  const name = `fail-next-send-${address}`;
  let armed = true;
  ses.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as SendEmailCommandInput;
      if (armed && input.Destination?.ToAddresses?.includes(address)) {
        armed = false;
        throw Object.assign(new Error('injected SES outage'), { name: 'ServiceUnavailableException' });
      }
      return next(args);
    },
    { step: 'initialize', name },
  );
  return { fired: () => !armed, remove: () => ses.middlewareStack.remove(name) };
}

describe('outbox pipeline', () => {
  it('retries a failed send, reports it alone, and sends the email exactly once', async () => {
    const retried = uniqueEmail('retried');
    const sibling = uniqueEmail('sibling');
    const h = await writeOutbox(retried, { held: true });
    const g = await writeOutbox(sibling, { held: true });

    // 1st delivery: SES fails for one record → only that record is reported; nothing sent for it.
    const fault = failNextSendTo(retried);
    const first = sqsEvent(messageFor(h.id), messageFor(g.id));
    let result: SQSBatchResponse;
    try {
      result = await notifier(first, lambdaContext('notifier'));
    } finally {
      fault.remove();
    }
    expect(fault.fired()).toBe(true);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: first.Records[0]!.messageId }]);
    expect(await emailsTo(retried)).toEqual([]);
    expect(await outboxItem(h.id), 'a failed event stays pending').toBeDefined();
    expect(await emailsTo(sibling), 'its batch sibling is not held back').toHaveLength(1);
    expect(await outboxItem(g.id)).toBeUndefined();

    // 2nd delivery (the retry): sent, with the sealed password opened; the item is gone.
    expect((await notifier(sqsEvent(messageFor(h.id)), lambdaContext('notifier'))).batchItemFailures).toEqual([]);
    const mails = await emailsTo(retried);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.body.text).toContain(h.password);
    expect(await outboxItem(h.id)).toBeUndefined();

    // 3rd delivery (a redelivery): nothing more.
    expect((await notifier(sqsEvent(messageFor(h.id)), lambdaContext('notifier'))).batchItemFailures).toEqual([]);
    expect(await emailsTo(retried)).toHaveLength(1);

    // Redeliveries through the real queue, and an ordinary event through the whole pipeline:
    // once the stream is read past it and the queue is empty, the duplicates have been consumed.
    for (let i = 0; i < 2; i++)
      await sqs.send(new SendMessageCommand({ QueueUrl: stack.queueUrls.notifications, MessageBody: messageFor(h.id) }));
    const sentinel = uniqueEmail('sentinel');
    const s = await writeOutbox(sentinel, { held: false });
    // No wait for the sentinel's email itself: pipelineIdle must hold until it is out.
    await pipelineIdle();
    expect(await outboxItem(s.id)).toBeUndefined();
    expect(await emailsTo(retried)).toHaveLength(1);
    expect(await emailsTo(sentinel), 'the real pipeline sends once too').toHaveLength(1);
  });

  it('pipelineIdle holds until an event just committed is delivered (the wait the negative checks rely on)', async () => {
    const to = uniqueEmail('idle');
    const { id, password } = await writeOutbox(to, { held: false });
    await pipelineIdle();
    const mails = await emailsTo(to);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.body.text).toContain(password);
    expect(await outboxItem(id)).toBeUndefined();
  });

  it('pipelineIdle holds until a webhook delivery just requested has been sent, its retry included', async () => {
    // The other pipeline: a delivery insert → the recharge stream poller → the webhooks queue →
    // the sender, whose 500 puts a retry back on the queue, delayed a second (global-setup).
    const { agency } = await rechargeSetup();
    const receiver = await startReceiver((_, i) => (i === 0 ? 500 : 200));
    try {
      await saveEndpoint(agency.token, receiver.url);
      const sent = await api('POST', '/v1/reselling/auto-recharge-webhook/test', { token: agency.token });
      expect(sent.status, sent.text).toBe(202);
      await pipelineIdle();
      expect(receiver.hits).toHaveLength(2);
      const [delivery] = await deliveriesOf(agency.token);
      expect(delivery).toMatchObject({ id: sent.body.deliveryId, status: 'succeeded', attempts: 2 });
    } finally {
      await receiver.close();
    }
  });

  it('moves a poison message to the DLQ after maxReceiveCount failed receives', async () => {
    // In-process first: a malformed record fails alone, its well-formed neighbour goes through.
    const good = await writeOutbox(uniqueEmail('neighbour'), { held: true });
    const mixed = sqsEvent('not json', JSON.stringify({ outboxId: 42 }), messageFor(good.id));
    const result = await notifier(mixed, lambdaContext('notifier'));
    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      [mixed.Records[0]!.messageId, mixed.Records[1]!.messageId].sort(),
    );
    expect(await outboxItem(good.id)).toBeUndefined();

    // Through the real queue: the stack's poller fails it on every receive until SQS redrives it.
    const poison = `not json ${uniq('poison')}`;
    await sqs.send(new SendMessageCommand({ QueueUrl: stack.queueUrls.notifications, MessageBody: poison }));
    const dead = await waitFor(
      async () => {
        const out = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: stack.queueUrls.notificationsDlq,
            MaxNumberOfMessages: 10,
            VisibilityTimeout: 0,
            WaitTimeSeconds: 0,
          }),
        );
        return out.Messages?.find((m) => m.Body === poison);
      },
      // maxReceiveCount receives at a 1 s visibility timeout, with room to spare.
      (queueDefinitions.notifications.maxReceiveCount + 1) * 1000 + 30_000,
      'the poison message in the DLQ',
    );
    expect(dead.Body).toBe(poison);
    await sqs.send(new DeleteMessageCommand({ QueueUrl: stack.queueUrls.notificationsDlq, ReceiptHandle: dead.ReceiptHandle! }));
  });

  it('sends nothing for a request that fails, and only the winner of a race is mailed', async () => {
    const agency = await signUpAgency('starter');

    // The owner's address has been mailed its verification link only; a sub-account with it is refused.
    const taken = await api('POST', '/v1/sub-accounts', { token: agency.token, body: { name: 'Taken', email: agency.email } });
    expect(taken.status).toBe(409);
    expect(taken.body.code).toBe('email_taken');
    // A refused body with a fresh address.
    const fresh = uniqueEmail('refused');
    expect((await api('POST', '/v1/sub-accounts', { token: agency.token, body: { name: '', email: fresh } })).status).toBe(400);

    // Two creates racing for one address: one wins; the loser's password must never be mailed.
    const contested = uniqueEmail('contested');
    const race = await Promise.all(
      ['Racer 1', 'Racer 2'].map((name) =>
        api('POST', '/v1/sub-accounts', { token: agency.token, body: { name, email: contested } }),
      ),
    );
    const winners = race.filter((r) => r.status === 201);
    expect(winners).toHaveLength(1);
    const loser = race.find((r) => r.status !== 201)!;
    expect([409, 503]).toContain(loser.status);

    // A later create whose email arrives, then every outbox item of the agency delivered.
    const later = uniqueEmail('later');
    expect((await api('POST', '/v1/sub-accounts', { token: agency.token, body: { name: 'Later', email: later } })).status).toBe(
      201,
    );
    await pipelineIdle();

    expect((await emailsTo(agency.email)).map((m) => m.subject)).toEqual([expect.stringMatching(/^Confirm your email/)]);
    expect(await emailsTo(fresh)).toEqual([]);
    const contestedMails = await emailsTo(contested);
    expect(contestedMails).toHaveLength(1);
    expect(contestedMails[0]!.body.text).toContain(winners[0]!.body.password);
    expect(await emailsTo(later)).toHaveLength(1);
  });

  it('sends the email of a committed change even when the request never answers', async () => {
    // The use case commits and its caller goes away (as if the Lambda died after the write):
    // the email is driven by the committed outbox item, not by the request.
    const agency = await signUpAgency('starter');
    const email = uniqueEmail('orphan');
    const agencyItem = (await getRaw(`ACCOUNT#${agency.agencyId}`, 'ACCOUNT')) as AgencyItem;
    const created = await createSubAccountInProcess(agencyItem, { name: 'Orphan', email });
    const [mail] = await waitFor(
      async () => {
        const mails = await emailsTo(email);
        return mails.length ? mails : undefined;
      },
      30_000,
      'the orphaned request email',
    );
    expect(mail!.body.text).toContain(created.password);
  });
});

describe('outbox lease: a delivery claims the event before it sends', () => {
  /** One delivery of a one-message batch: 1 if the message failed (and SQS would retry it), else 0. */
  const deliver = async (outboxId: string): Promise<number> => {
    try {
      return (await notifier(sqsEvent(messageFor(outboxId)), lambdaContext('notifier'))).batchItemFailures.length;
    } catch (err) {
      // Powertools throws when every record of a batch failed: Lambda then fails the whole batch.
      if ((err as Error).name === 'FullBatchFailureError') return 1;
      throw err;
    }
  };

  it('two concurrent deliveries of one event send one email; the other backs off and is retried later', async () => {
    for (let round = 0; round < 5; round++) {
      const to = uniqueEmail('twice');
      const { id, password } = await writeOutbox(to, { held: true });
      // Two containers' deliveries at once (the handler's batch processor is per container, so
      // the use case is called directly, as each container's handler would).
      const results = await Promise.allSettled([deliverOutboxEvent(id), deliverOutboxEvent(id)]);
      const mails = await emailsTo(to);
      expect(mails, 'emails sent by two concurrent deliveries').toHaveLength(1);
      expect(mails[0]!.body.text).toContain(password);
      // One sent; the other backed off (its message is retried later) or found it done.
      const outcomes = results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).name)).sort();
      expect([
        ['OutboxBusy', 'sent'],
        ['already_done', 'sent'],
      ]).toContainEqual(outcomes);
      expect(await outboxItem(id)).toBeUndefined();
      // The retry finds the event done.
      expect(await deliver(id)).toBe(0);
      expect(await emailsTo(to)).toHaveLength(1);
    }
  });

  it('a crash between the send and the delete sends twice, but only after the lease expired (documented)', async () => {
    const to = uniqueEmail('crash');
    const { id } = await writeOutbox(to, { held: true });
    // The process "dies" after SES accepted the email: the delete never happens.
    const name = 'crash-before-outbox-delete';
    dynamo.middlewareStack.add(
      (next, context) => async (args) => {
        const key = (args.input as { Key?: { pk?: { S?: string } } }).Key?.pk?.S;
        if (context.commandName === 'DeleteItemCommand' && key === outboxKey(id).pk)
          throw Object.assign(new Error('injected crash before the delete'), { name: 'InjectedCrash' });
        return next(args);
      },
      { step: 'serialize', name },
    );
    try {
      expect(await deliver(id)).toBe(1);
    } finally {
      dynamo.middlewareStack.remove(name);
    }
    expect(await emailsTo(to)).toHaveLength(1);
    expect((await outboxItem(id))?.leaseUntil, 'the event is still leased').toBeGreaterThan(Date.now());

    // Redelivered while the lease holds: backs off, sends nothing.
    expect(await deliver(id)).toBe(1);
    expect(await emailsTo(to)).toHaveLength(1);

    // Redelivered after the lease expired: sent again — the at-least-once window the README names.
    const later = await withClock({ offsetMs: leaseMs + 1000 }, () => deliver(id));
    expect(later).toBe(0);
    expect(await emailsTo(to)).toHaveLength(2);
    expect(await outboxItem(id)).toBeUndefined();
  });

  it('a failed send gives the claim back, so the retry need not wait for the lease', async () => {
    const to = uniqueEmail('released');
    const { id } = await writeOutbox(to, { held: true });
    const fault = failNextSendTo(to);
    try {
      expect(await deliver(id)).toBe(1);
    } finally {
      fault.remove();
    }
    expect((await outboxItem(id))?.leaseUntil).toBeUndefined();
    expect(await deliver(id)).toBe(0);
    expect(await emailsTo(to)).toHaveLength(1);
  });
});
