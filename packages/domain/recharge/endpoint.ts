import { now } from '#core/clock';
import { AppError, notFound } from '#core/errors';
import type { AuditChange } from '#db/items/audit-record';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  getResellingSettings,
  replaceWebhookSecrets,
  type StoredWebhookEndpoint,
  updateWebhookEndpointUrl,
} from '#db/items/reselling-settings';
import { putDelivery } from '#db/items/webhook-delivery';
import { transact } from '#db/transact';
import { audited, changesOf } from '../audit/record';
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

/** Its audit record: the URL and state, before and after; never a secret. */
const endpointAudit = (agencyId: string, action: string, changes: AuditChange[] = []) =>
  audited({ agencyId, action, target: { type: 'auto_recharge_webhook', id: agencyId }, changes });

/** PUT: creates the endpoint with a new secret (shown this once), or points the existing one at a new URL and enables it again. */
export async function saveEndpoint(agencyId: string, body: WebhookEndpointBody, options: CheckOptions = {}) {
  const url = await checkedUrl(body.url, options);
  const at = now().toISOString();
  for (let attempt = 0; attempt < 3; attempt++) {
    const seen = (await getResellingSettings(agencyId))?.autoRechargeWebhook;
    if (seen) {
      const after = { ...seen, url, enabled: true };
      const changes = changesOf(seen, after, ['url', 'enabled']);
      const audit = changes.length ? [endpointAudit(agencyId, 'auto_recharge_webhook.updated', changes)] : [];
      if (await updateWebhookEndpointUrl(agencyId, seen, url, at, audit)) {
        const { disabledReason: _, ...updated } = { ...after, updatedAt: at };
        return endpointView(updated);
      }
      continue;
    }
    const secret = generateWebhookSecret();
    const endpoint: StoredWebhookEndpoint = {
      url,
      enabled: true,
      sealedSecrets: await sealSecrets(agencyId, { current: secret }),
      createdAt: at,
      updatedAt: at,
    };
    const audit = endpointAudit(agencyId, 'auto_recharge_webhook.created', changesOf(undefined, endpoint, ['url', 'enabled']));
    if (await createWebhookEndpoint(agencyId, endpoint, [audit])) return { ...endpointView(endpoint), secret };
  }
  throw new AppError('try_again', 'The endpoint changed while saving; retry', undefined, { retryAfterSeconds: 1 });
}

async function storedEndpoint(agencyId: string): Promise<StoredWebhookEndpoint> {
  const endpoint = (await getResellingSettings(agencyId))?.autoRechargeWebhook;
  if (!endpoint) throw notFound('Auto-recharge webhook endpoint');
  return endpoint;
}

export const getEndpoint = async (agencyId: string) => endpointView(await storedEndpoint(agencyId));

/** DELETE (idempotent: none is no write, and no record). */
export async function removeEndpoint(agencyId: string): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const seen = (await getResellingSettings(agencyId))?.autoRechargeWebhook;
    if (!seen) return;
    const audit = endpointAudit(agencyId, 'auto_recharge_webhook.deleted', changesOf(seen, {}, ['url', 'enabled']));
    if (await deleteWebhookEndpoint(agencyId, seen.url, [audit])) return;
  }
  throw new AppError('try_again', 'The endpoint changed while deleting; retry', undefined, { retryAfterSeconds: 1 });
}

/**
 * A new secret; the old one keeps signing beside it for 24 h (signing.ts), so the agency's
 * server can switch without dropping a delivery. The record says that it was rotated, never a secret.
 */
export async function rotateSecret(agencyId: string) {
  const endpoint = await storedEndpoint(agencyId);
  const rotated = rotateWebhookSecret(await openSecrets(agencyId, endpoint.sealedSecrets), now());
  const sealed = await sealSecrets(agencyId, rotated);
  const audit = endpointAudit(agencyId, 'auto_recharge_webhook.secret_rotated');
  if (!(await replaceWebhookSecrets(agencyId, endpoint.sealedSecrets, sealed, now().toISOString(), [audit])))
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
  await transact([
    putDelivery(delivery),
    endpointAudit(agencyId, 'auto_recharge_webhook.test_sent', [{ field: 'deliveryId', before: null, after: delivery.id }]),
  ]);
  return { deliveryId: delivery.id };
}
