import { randomUUID } from 'node:crypto';
import { SESClient, SendEmailCommand } from '@aws-sdk/client-ses';
import { awsClientDefaults } from '#core/aws-clients';
import { nowMs } from '#core/clock';
import { requireEnv } from '#core/env';
import { logger } from '#core/logger';
import { count } from '#core/metrics';
import { traced } from '#core/tracing';
import { open } from '#crypto/secret-box';
import { claimOutbox, deleteOutbox, type OutboxItem, releaseOutbox } from '#db/items/outbox';
import { queueDefinitions } from '#queues/definitions';
import type { OutboxEvent } from '../outbox';
import { credentialsEmail } from './credentials-email';
import { purchaseNoticeEmail } from './purchase-emails';
import { deliveryFailedEmail, endpointDisabledEmail, rechargeCapEmail } from './recharge-emails';
import { passwordResetEmail, verifyEmail } from './token-emails';
import { lowBalanceEmail, topUpNoticeEmail } from './top-up-emails';

export const ses = traced(new SESClient(awsClientDefaults));

/**
 * How long a delivery holds an event: longer than the notifier may run (its timeout), so a
 * delivery that is still alive is never overtaken by another.
 */
export const OUTBOX_LEASE_MS = (queueDefinitions.notifications.consumerTimeoutSeconds + 5) * 1000;

/** Another delivery holds the event right now; the message is retried later (SQS visibility timeout). */
export class OutboxBusy extends Error {
  constructor(outboxId: string, heldUntil: number) {
    super(`outbox event ${outboxId} is being delivered (lease until ${new Date(heldUntil).toISOString()})`);
    this.name = 'OutboxBusy';
  }
}

/**
 * Carries out one outbox event, at least once and in practice once. The outbox item is the
 * delivery record: present = not yet done, absent = done. A delivery first claims it with a
 * conditional lease (so two concurrent deliveries of one event never both send), sends, then
 * deletes it (which also removes the sealed secret). A redelivery after that finds nothing;
 * one during the lease backs off (throws, so SQS retries the message later); a failed send
 * gives the claim back. Only a crash between the send and the delete (a window of one
 * DynamoDB call) can send twice: the lease then expires and the next redelivery sends again.
 */
export async function deliverOutboxEvent(outboxId: string): Promise<'sent' | 'already_done'> {
  const token = randomUUID();
  const at = nowMs();
  const claim = await claimOutbox<OutboxEvent>(outboxId, token, at, at + OUTBOX_LEASE_MS);
  if ('done' in claim) return 'already_done';
  if ('heldUntil' in claim) throw new OutboxBusy(outboxId, claim.heldUntil);

  try {
    await send(claim.claimed, outboxId);
  } catch (err) {
    await releaseOutbox(outboxId, token);
    throw err;
  }
  await deleteOutbox(outboxId, token);
  logger.info('outbox event delivered', { outboxId, type: claim.claimed.event.type });
  count('EmailsSent');
  return 'sent';
}

async function send(item: OutboxItem<OutboxEvent>, outboxId: string): Promise<void> {
  const event = item.event;
  let mail: { subject: string; text: string; html: string };
  switch (event.type) {
    case 'sub_account.credentials':
      mail = credentialsEmail(event, await open(event.sealedPassword, outboxId), requireEnv('APP_LOGIN_URL'));
      break;
    case 'agency.verify_email':
      mail = verifyEmail(event, await open(event.sealedToken, outboxId), requireEnv('APP_URL'));
      break;
    case 'user.password_reset':
      mail = passwordResetEmail(event, await open(event.sealedToken, outboxId), requireEnv('APP_URL'));
      break;
    case 'webhook.delivery_failed':
      mail = deliveryFailedEmail(event);
      break;
    case 'webhook.endpoint_disabled':
      mail = endpointDisabledEmail(event);
      break;
    case 'recharge.daily_cap_reached':
      mail = rechargeCapEmail(event);
      break;
    case 'purchase.notice':
      mail = purchaseNoticeEmail(event);
      break;
    case 'auto_top_up.notice':
      mail = topUpNoticeEmail(event);
      break;
    case 'low_balance.alert':
      mail = lowBalanceEmail(event);
      break;
    default:
      throw new Error(`Unknown outbox event type ${(event as { type: string }).type}`);
  }
  await ses.send(
    new SendEmailCommand({
      Source: requireEnv('EMAIL_FROM'),
      Destination: { ToAddresses: [event.to] },
      Message: {
        Subject: { Data: mail.subject, Charset: 'UTF-8' },
        Body: { Text: { Data: mail.text, Charset: 'UTF-8' }, Html: { Data: mail.html, Charset: 'UTF-8' } },
      },
    }),
  );
}
