import { open, seal } from '#crypto/secret-box';
import type { WebhookSecrets } from '../webhooks/signing';

/**
 * An endpoint's signing secrets rest sealed (KMS deployed, the local key locally), bound to the
 * agency by the encryption context. Opened secrets are cached per container by their sealed
 * text, so a sender does not call KMS per delivery; a rotation changes the text.
 */
const context = (agencyId: string) => `webhook-secret:${agencyId}`;
const opened = new Map<string, WebhookSecrets>();

interface Stored {
  current: string;
  previous?: { secret: string; rotatedAt: string };
}

export async function sealSecrets(agencyId: string, secrets: WebhookSecrets): Promise<string> {
  const stored: Stored = {
    current: secrets.current,
    ...(secrets.previous && {
      previous: { secret: secrets.previous.secret, rotatedAt: secrets.previous.rotatedAt.toISOString() },
    }),
  };
  return seal(JSON.stringify(stored), context(agencyId));
}

export async function openSecrets(agencyId: string, sealed: string): Promise<WebhookSecrets> {
  const cached = opened.get(sealed);
  if (cached) return cached;
  const stored = JSON.parse(await open(sealed, context(agencyId))) as Stored;
  const secrets: WebhookSecrets = {
    current: stored.current,
    ...(stored.previous && { previous: { secret: stored.previous.secret, rotatedAt: new Date(stored.previous.rotatedAt) } }),
  };
  if (opened.size > 1000) opened.clear();
  opened.set(sealed, secrets);
  return secrets;
}
