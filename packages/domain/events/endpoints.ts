import { now } from '#core/clock';
import { AppError, notFound } from '#core/errors';
import { newId } from '#core/ids';
import type { AuditChange } from '#db/items/audit-record';
import { getDelivery, listDeliveries, putDelivery, type WebhookDeliveryItem } from '#db/items/webhook-delivery';
import {
  addEventEndpoint,
  getEventEndpoint,
  getEventEndpoints,
  removeEventEndpoint,
  type StoredEventEndpoint,
  updateEventEndpoint,
} from '#db/items/webhook-endpoints';
import { transact } from '#db/transact';
import { audited, changesOf } from '../audit/record';
import { limits, takeAttempt } from '../auth/throttle';
import { type CheckOptions, checkedUrl } from '../recharge/endpoint';
import { deliveryView, retryDelivery } from '../recharge/lists';
import { newDelivery } from '../recharge/open';
import { openSecrets, sealSecrets } from '../recharge/secrets';
import { generateWebhookSecret, rotateWebhookSecret } from '../webhooks/signing';
import type { CreateWebhookEndpointBody, EndpointDeliveriesQuery, PatchWebhookEndpointBody } from './schemas';

/**
 * An agency's event webhook endpoints (API.md, Event webhooks): the auto-recharge endpoint's
 * rules, several times over. The URL passes the same SSRF check when saved (and again before
 * each delivery, in the sender); the secret is sealed the same way, shown on creation and
 * rotation only, and a rotation keeps the old secret signing for 24 h.
 */
export const MAX_ENDPOINTS = 10;

export function eventEndpointView(e: StoredEventEndpoint) {
  return {
    id: e.id,
    url: e.url,
    events: e.events,
    description: e.description ?? null,
    enabled: e.enabled,
    disabledReason: e.disabledReason ?? null,
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
  };
}

/** What an endpoint's audit record shows of it, before and after: never its secrets. */
const AUDITED = ['url', 'events', 'description', 'enabled'] as const;
const endpointAudit = (agencyId: string, id: string, action: string, changes: AuditChange[] = []) =>
  audited({ agencyId, action, target: { type: 'webhook_endpoint', id }, changes });

export async function createEventEndpoint(agencyId: string, body: CreateWebhookEndpointBody, options: CheckOptions = {}) {
  const url = await checkedUrl(body.url, options);
  const at = now().toISOString();
  const secret = generateWebhookSecret();
  const endpoint: StoredEventEndpoint = {
    id: newId('webhookEndpoint'),
    url,
    events: [...new Set(body.events)],
    ...(body.description && { description: body.description }),
    enabled: true,
    sealedSecrets: await sealSecrets(agencyId, { current: secret }),
    createdAt: at,
    updatedAt: at,
  };
  const audit = endpointAudit(agencyId, endpoint.id, 'webhook_endpoint.created', changesOf(undefined, endpoint, AUDITED));
  if ((await addEventEndpoint(agencyId, endpoint, MAX_ENDPOINTS, [audit])) === 'full')
    throw new AppError('quota_exceeded', `An agency may register at most ${MAX_ENDPOINTS} webhook endpoints`);
  return { endpoint: eventEndpointView(endpoint), secret };
}

export async function listEventEndpoints(agencyId: string) {
  return { items: (await getEventEndpoints(agencyId)).map(eventEndpointView), nextCursor: null };
}

async function stored(agencyId: string, id: string): Promise<StoredEventEndpoint> {
  const endpoint = await getEventEndpoint(agencyId, id);
  if (!endpoint) throw notFound('Webhook endpoint');
  return endpoint;
}

export const getEventEndpointView = async (agencyId: string, id: string) => eventEndpointView(await stored(agencyId, id));

/** PATCH over the endpoint as read, so its record's "before" is what was replaced; a concurrent change makes us read again. */
export async function patchEventEndpoint(
  agencyId: string,
  id: string,
  body: PatchWebhookEndpointBody,
  options: CheckOptions = {},
) {
  const url = body.url === undefined ? undefined : await checkedUrl(body.url, options);
  for (let attempt = 0; attempt < 3; attempt++) {
    const seen = await stored(agencyId, id);
    const changes = {
      url,
      events: body.events && [...new Set(body.events)],
      enabled: body.enabled,
      description: body.description,
      updatedAt: now().toISOString(),
    };
    const after: StoredEventEndpoint = { ...seen };
    for (const [field, value] of Object.entries(changes)) if (value !== undefined) Object.assign(after, { [field]: value });
    if (changes.enabled === true || changes.url !== undefined) delete after.disabledReason;
    const changed = changesOf(seen, after, AUDITED);
    const audit = changed.length ? [endpointAudit(agencyId, id, 'webhook_endpoint.updated', changed)] : [];
    if (await updateEventEndpoint(agencyId, id, changes, seen, audit)) return eventEndpointView(after);
  }
  throw new AppError('try_again', 'The endpoint kept changing while it was being updated; retry', undefined, {
    retryAfterSeconds: 1,
  });
}

/** Deleting is final: its pending deliveries fail ("no endpoint") when their turn comes. */
export async function deleteEventEndpoint(agencyId: string, id: string) {
  for (let attempt = 0; attempt < 3; attempt++) {
    const seen = await stored(agencyId, id);
    const audit = endpointAudit(agencyId, id, 'webhook_endpoint.deleted', changesOf(seen, {}, AUDITED));
    if (await removeEventEndpoint(agencyId, id, seen.updatedAt, [audit])) return;
  }
  throw new AppError('try_again', 'The endpoint kept changing while it was being deleted; retry', undefined, {
    retryAfterSeconds: 1,
  });
}

/** A new secret (the old one signs beside it for 24 h); the record says that it was rotated, never a secret. */
export async function rotateEventEndpointSecret(agencyId: string, id: string) {
  const endpoint = await stored(agencyId, id);
  const rotated = rotateWebhookSecret(await openSecrets(agencyId, endpoint.sealedSecrets), now());
  const sealedSecrets = await sealSecrets(agencyId, rotated);
  const at = now().toISOString();
  const audit = endpointAudit(agencyId, id, 'webhook_endpoint.secret_rotated');
  if (!(await updateEventEndpoint(agencyId, id, { sealedSecrets, updatedAt: at }, endpoint, [audit])))
    throw new AppError('try_again', 'Another rotation happened at the same time; retry', undefined, { retryAfterSeconds: 1 });
  return { secret: rotated.current };
}

/** A `webhook.test` event to this endpoint, throttled with the auto-recharge endpoint's tests (10 an hour per agency). */
export async function sendEndpointTest(agencyId: string, id: string) {
  const endpoint = await stored(agencyId, id);
  if (!endpoint.enabled)
    throw new AppError(
      'conflict',
      `The endpoint is disabled (${endpoint.disabledReason ?? 'turned off'}); enable it with PATCH first`,
    );
  await takeAttempt(limits.webhookTest, agencyId);
  const at = now();
  const payload = JSON.stringify({ type: 'webhook.test', createdAt: at.toISOString(), agencyId, data: { endpointId: id } });
  const delivery = { ...newDelivery(agencyId, 'webhook.test', payload, at), endpointId: id };
  await transact([
    putDelivery(delivery),
    endpointAudit(agencyId, id, 'webhook_endpoint.test_sent', [{ field: 'deliveryId', before: null, after: delivery.id }]),
  ]);
  return { deliveryId: delivery.id };
}

export async function listEndpointDeliveries(agencyId: string, id: string, query: EndpointDeliveriesQuery) {
  // Both at once; a cursor that is not this list's is a 400 whether or not the endpoint exists.
  const [page, endpoint] = await Promise.all([
    listDeliveries(agencyId, { ...query, endpointId: id }),
    getEventEndpoint(agencyId, id),
  ]);
  if (!endpoint) throw notFound('Webhook endpoint');
  return { items: page.items.map(eventDeliveryView), nextCursor: page.nextCursor };
}

/** The auto-recharge log's row, with the event it carries (none for a test). */
const eventDeliveryView = (d: WebhookDeliveryItem) => {
  const { requestId: _, ...row } = deliveryView(d);
  return { ...row, endpointId: d.endpointId ?? null, eventId: d.eventId ?? null };
};

/** Another endpoint's delivery (or the auto-recharge endpoint's) is not found here. */
export async function retryEndpointDelivery(agencyId: string, id: string, deliveryId: string) {
  await stored(agencyId, id);
  const delivery = await getDelivery(agencyId, deliveryId);
  if (delivery?.endpointId !== id) throw notFound('Webhook delivery');
  return retryDelivery(agencyId, deliveryId);
}
