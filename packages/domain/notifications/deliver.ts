import { SESClient, SendEmailCommand } from '@aws-sdk/client-ses';
import { awsClientDefaults } from '../../core/aws-clients';
import { requireEnv } from '../../core/env';
import { logger } from '../../core/logger';
import { count } from '../../core/metrics';
import { traced } from '../../core/tracing';
import { open } from '../../crypto/secret-box';
import { deleteOutbox, getOutbox } from '../../db/items/outbox';
import type { OutboxEvent } from '../outbox';
import { credentialsEmail } from './credentials-email';
import { passwordResetEmail, verifyEmail } from './token-emails';

export const ses = traced(new SESClient(awsClientDefaults));

/**
 * Carries out one outbox event. The outbox item is the delivery record: present = not yet
 * done, absent = done. So a redelivered message (stream retries, queue redelivery) finds
 * nothing and sends nothing; a send that fails leaves the item for the next attempt.
 */
export async function deliverOutboxEvent(outboxId: string): Promise<'sent' | 'already_done'> {
  const item = await getOutbox<OutboxEvent>(outboxId);
  if (!item) return 'already_done';

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

  // Deleting the item removes the sealed secret and records the delivery.
  await deleteOutbox(outboxId);
  logger.info('outbox event delivered', { outboxId, type: item.event.type });
  count('EmailsSent');
  return 'sent';
}
