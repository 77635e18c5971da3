/**
 * Every signature is checked the way a receiver would check it: with the `standardwebhooks`
 * library's own `Webhook.verify`, for each secret the receiver might hold.
 */
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  generateWebhookSecret,
  PREVIOUS_SECRET_GRACE_MS,
  rotateWebhookSecret,
  signingSecrets,
  signWebhook,
  type WebhookSecrets,
} from '#domain/webhooks/signing';

const HOUR = 3600_000;
const body = JSON.stringify({ type: 'credits.recharge_requested', data: { requestId: 'rrq_1', creditsRequested: 500 } });
const verifies = (secret: string, payload: string, headers: Record<string, string>) => {
  try {
    new Webhook(secret).verify(payload, headers);
    return true;
  } catch {
    return false;
  }
};

describe('webhook signing', () => {
  it('generates whsec_ secrets of 32 random bytes', () => {
    const secrets = Array.from({ length: 50 }, generateWebhookSecret);
    for (const secret of secrets) {
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    }
    expect(new Set(secrets).size).toBe(secrets.length);
  });

  it('signs with one secret as Standard Webhooks headers a receiver verifies', () => {
    const secret = generateWebhookSecret();
    const timestamp = new Date();
    const headers = signWebhook({ msgId: 'msg_1', body, secrets: { current: secret }, timestamp });
    expect(headers['webhook-id']).toBe('msg_1');
    expect(headers['webhook-timestamp']).toBe(String(Math.floor(timestamp.getTime() / 1000)));
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
    expect(verifies(generateWebhookSecret(), body, { ...headers })).toBe(false);
  });

  it('signs with both secrets within 24 h of a rotation, each verifying alone', () => {
    const before: WebhookSecrets = { current: generateWebhookSecret() };
    const rotated = rotateWebhookSecret(before, new Date(Date.now() - HOUR));
    expect(rotated.previous?.secret).toBe(before.current);
    expect(rotated.current).not.toBe(before.current);
    const headers = { ...signWebhook({ msgId: 'msg_2', body, secrets: rotated }) };
    expect(headers['webhook-signature']).toMatch(/^v1,\S+ v1,\S+$/);
    expect(verifies(rotated.current, body, headers)).toBe(true);
    expect(verifies(before.current, body, headers)).toBe(true);
    expect(verifies(generateWebhookSecret(), body, headers)).toBe(false);
  });

  it('drops the previous secret 24 h after the rotation', () => {
    const old = generateWebhookSecret();
    const secrets: WebhookSecrets = {
      current: generateWebhookSecret(),
      previous: { secret: old, rotatedAt: new Date(Date.now() - 25 * HOUR) },
    };
    const headers = { ...signWebhook({ msgId: 'msg_3', body, secrets }) };
    expect(headers['webhook-signature']).toMatch(/^v1,\S+$/);
    expect(verifies(secrets.current, body, headers)).toBe(true);
    expect(verifies(old, body, headers)).toBe(false);

    const rotatedAt = new Date('2025-01-01T00:00:00Z');
    const window = { current: 'whsec_bmV3', previous: { secret: 'whsec_b2xk', rotatedAt } };
    expect(signingSecrets(window, new Date(rotatedAt.getTime() + PREVIOUS_SECRET_GRACE_MS - 1))).toHaveLength(2);
    expect(signingSecrets(window, new Date(rotatedAt.getTime() + PREVIOUS_SECRET_GRACE_MS))).toEqual(['whsec_bmV3']);
  });

  it('fails verification when the body, id or timestamp is changed', () => {
    const rotated = rotateWebhookSecret({ current: generateWebhookSecret() });
    const headers = { ...signWebhook({ msgId: 'msg_4', body, secrets: rotated }) };
    for (const secret of [rotated.current, rotated.previous!.secret]) {
      expect(verifies(secret, body, headers)).toBe(true);
      expect(verifies(secret, body.replace('500', '5000'), headers)).toBe(false);
      expect(verifies(secret, `${body} `, headers)).toBe(false);
      expect(verifies(secret, body, { ...headers, 'webhook-id': 'msg_5' })).toBe(false);
      expect(verifies(secret, body, { ...headers, 'webhook-timestamp': String(Number(headers['webhook-timestamp']) - 1) })).toBe(
        false,
      );
    }
  });

  it('keeps the id across attempts and signs each attempt for its own time', () => {
    const secrets = { current: generateWebhookSecret() };
    const first = signWebhook({ msgId: 'msg_6', body, secrets, timestamp: new Date(Date.now() - 60_000) });
    const retry = signWebhook({ msgId: 'msg_6', body, secrets });
    expect(retry['webhook-id']).toBe(first['webhook-id']);
    expect(retry['webhook-timestamp']).not.toBe(first['webhook-timestamp']);
    expect(retry['webhook-signature']).not.toBe(first['webhook-signature']);
    expect(verifies(secrets.current, body, { ...first })).toBe(true);
    expect(verifies(secrets.current, body, { ...retry })).toBe(true);
  });
});
