import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): HMAC-SHA256 over
 * `${id}.${timestamp}.${body}`, sent as `webhook-signature: v1,<base64>`. After a rotation the
 * previous secret keeps signing for 24 h next to the new one (`v1,<new> v1,<old>`, space
 * separated, as the spec allows), so a receiver can switch secrets without dropping deliveries.
 */

export const SECRET_PREFIX = 'whsec_';
export const PREVIOUS_SECRET_GRACE_MS = 24 * 60 * 60 * 1000;

/** `whsec_` + base64 of 32 random bytes: the format `standardwebhooks` verifiers expect. */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

export interface WebhookSecrets {
  current: string;
  /** The secret the last rotation replaced; it signs too until 24 h after `rotatedAt`. */
  previous?: { secret: string; rotatedAt: Date };
}

/** A new current secret; the old one becomes `previous` (a second rotation within 24 h drops the oldest). */
export function rotateWebhookSecret(secrets: WebhookSecrets, now = new Date()): WebhookSecrets {
  return { current: generateWebhookSecret(), previous: { secret: secrets.current, rotatedAt: now } };
}

/** The secrets that sign at `at`: the current one, then the previous one while its grace lasts. */
export function signingSecrets(secrets: WebhookSecrets, at: Date): string[] {
  const { previous } = secrets;
  const inGrace = previous !== undefined && at.getTime() - previous.rotatedAt.getTime() < PREVIOUS_SECRET_GRACE_MS;
  return inGrace ? [secrets.current, previous.secret] : [secrets.current];
}

export interface WebhookHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

export interface SignWebhookInput {
  /** The delivery's id: the same on every attempt, so receivers can drop duplicates. */
  msgId: string;
  /** The exact body that will be sent. */
  body: string;
  secrets: WebhookSecrets;
  /** The attempt's time (sign again on each attempt); also decides whether `previous` still signs. */
  timestamp?: Date;
}

export function signWebhook({ msgId, body, secrets, timestamp = new Date() }: SignWebhookInput): WebhookHeaders {
  const signature = signingSecrets(secrets, timestamp)
    .map((secret) => new Webhook(secret).sign(msgId, timestamp, body))
    .join(' ');
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
    'webhook-signature': signature,
  };
}
