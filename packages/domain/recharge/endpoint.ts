import { now } from '../../core/clock';
import { AppError, notFound } from '../../core/errors';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  getResellingSettings,
  replaceWebhookSecrets,
  type StoredWebhookEndpoint,
  updateWebhookEndpointUrl,
} from '../../db/items/reselling-settings';
import { putDelivery } from '../../db/items/webhook-delivery';
import { transact } from '../../db/transact';
import { limits, takeAttempt } from '../auth/throttle';
import { generateWebhookSecret, rotateWebhookSecret } from '../webhooks/signing';
import { type Resolver, resolveAndCheck } from '../webhooks/webhook-url';
import { allowLoopbackHttp } from './config';
import { newDelivery } from './open';
import type { WebhookEndpointBody } from './schemas';
import { openSecrets, sealSecrets } from './secrets';

/** The agency's auto-recharge endpoint: saved after the SSRF check, its secret sealed, shown on creation and rotation only. */
export function endpointView(e: StoredWebhookEndpoint) {
  return { url: e.url, enabled: e.enabled, disabledReason: e.disabledReason ?? null };
}

export interface CheckOptions {
  /** Test seam: the SSRF table runs against a stubbed resolver (no DNS traffic). */
  resolver?: Resolver;
}

/** The URL as it will be stored (normalized), or 400 invalid_webhook_url naming why. */
export async function checkedUrl(url: string, options: CheckOptions = {}): Promise<string> {
  const checked = await resolveAndCheck(url, { allowLoopbackHttp: allowLoopbackHttp(), resolver: options.resolver });
  if (checked.ok) return checked.target.url.href;
  const { problem } = checked;
  throw new AppError('invalid_webhook_url', `url: ${problem.message}`, [{ field: 'url', message: problem.message }], {
    extensions: { reason: problem.reason, ...(problem.address && { refusal: problem.address.refusal }) },
  });
}

/** PUT: creates the endpoint with a new secret (shown this once), or points the existing one at a new URL and enables it again. */
export async function saveEndpoint(agencyId: string, body: WebhookEndpointBody, options: CheckOptions = {}) {
  const url = await checkedUrl(body.url, options);
  const at = now().toISOString();
  for (let attempt = 0; attempt < 2; attempt++) {
    const updated = await updateWebhookEndpointUrl(agencyId, url, at);
    if (updated) return endpointView(updated);
    const secret = generateWebhookSecret();
    const endpoint: StoredWebhookEndpoint = {
      url,
      enabled: true,
      sealedSecrets: await sealSecrets(agencyId, { current: secret }),
      createdAt: at,
      updatedAt: at,
    };
    if (await createWebhookEndpoint(agencyId, endpoint)) return { ...endpointView(endpoint), secret };
  }
  throw new AppError('try_again', 'The endpoint changed while saving; retry', undefined, { retryAfterSeconds: 1 });
}

async function storedEndpoint(agencyId: string): Promise<StoredWebhookEndpoint> {
  const endpoint = (await getResellingSettings(agencyId))?.autoRechargeWebhook;
  if (!endpoint) throw notFound('Auto-recharge webhook endpoint');
  return endpoint;
}

export const getEndpoint = async (agencyId: string) => endpointView(await storedEndpoint(agencyId));
export const removeEndpoint = (agencyId: string) => deleteWebhookEndpoint(agencyId);

/**
 * A new secret; the old one keeps signing beside it for 24 h (signing.ts), so the agency's
 * server can switch without dropping a delivery.
 */
export async function rotateSecret(agencyId: string) {
  const endpoint = await storedEndpoint(agencyId);
  const rotated = rotateWebhookSecret(await openSecrets(agencyId, endpoint.sealedSecrets), now());
  const sealed = await sealSecrets(agencyId, rotated);
  if (!(await replaceWebhookSecrets(agencyId, endpoint.sealedSecrets, sealed, now().toISOString())))
    throw new AppError('try_again', 'Another rotation happened at the same time; retry', undefined, { retryAfterSeconds: 1 });
  return { secret: rotated.current };
}

/**
 * Queues a `webhook.test` event to the endpoint (its insert queues it, as for recharge requests);
 * 10 an hour per agency, counted once the request is otherwise acceptable (a 404 or 409 costs none).
 */
export async function sendTestEvent(agencyId: string) {
  const endpoint = await storedEndpoint(agencyId);
  if (!endpoint.enabled)
    throw new AppError(
      'conflict',
      `The endpoint is disabled (${endpoint.disabledReason ?? 'turned off'}); save it again with PUT first`,
    );
  await takeAttempt(limits.webhookTest, agencyId);
  const at = now();
  const payload = JSON.stringify({ type: 'webhook.test', timestamp: at.toISOString(), data: { agencyId } });
  const delivery = newDelivery(agencyId, 'webhook.test', payload, at);
  await transact([putDelivery(delivery)]);
  return { deliveryId: delivery.id };
}
