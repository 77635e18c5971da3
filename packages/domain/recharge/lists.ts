import { now, nowIso, nowMs } from '#core/clock';
import { AppError, notFound } from '#core/errors';
import { isIdOf } from '#core/ids';
import { listRechargeRequests, type RechargeRequestItem } from '#db/items/recharge';
import {
  getDelivery,
  listDeliveries,
  reopenDelivery,
  unreopenDelivery,
  type WebhookDeliveryItem,
} from '#db/items/webhook-delivery';
import { audited } from '../audit/record';
import { enqueueDelivery } from './queue';
import type { DeliveriesQuery, RechargeRequestsQuery } from './schemas';

/** The request list and the delivery log, as API.md shows them. */
export function requestView(r: RechargeRequestItem, at = now().toISOString()) {
  return {
    id: r.id,
    subAccountId: r.subAccountId,
    status: r.status === 'open' && r.expiresAt <= at ? ('expired' as const) : r.status,
    creditsRequested: r.creditsRequested,
    balanceAtTrigger: r.balanceAtTrigger,
    threshold: r.threshold,
    deliveryId: r.deliveryId ?? null,
    createdAt: r.createdAt,
    fulfilledAt: r.fulfilledAt ?? null,
    expiresAt: r.expiresAt,
  };
}

export function deliveryView(d: WebhookDeliveryItem) {
  return {
    id: d.id,
    eventType: d.eventType,
    webhookId: d.webhookId,
    requestId: d.requestId ?? null,
    status: d.status,
    attempts: d.attempts,
    lastStatusCode: d.lastStatusCode ?? null,
    lastError: d.lastError ?? null,
    nextAttemptAt: d.status === 'pending' && d.nextAttemptAt !== undefined ? new Date(d.nextAttemptAt).toISOString() : null,
    createdAt: d.createdAt,
  };
}

export async function listRequests(agencyId: string, query: RechargeRequestsQuery) {
  // Another shape names no sub-account: an empty list, without a read.
  if (query.subAccountId && !isIdOf(query.subAccountId, ['subAccount'])) return { items: [], nextCursor: null };
  const at = nowIso();
  const page = await listRechargeRequests(agencyId, { ...query, nowIso: at });
  return { items: page.items.map((r) => requestView(r, at)), nextCursor: page.nextCursor };
}

export async function listDeliveryLog(agencyId: string, query: DeliveriesQuery) {
  const page = await listDeliveries(agencyId, query);
  return { items: page.items.map(deliveryView), nextCursor: page.nextCursor };
}

/** A failed delivery, once more (one attempt, the same webhook-id); pending or succeeded → 409. */
export async function retryDelivery(agencyId: string, deliveryId: string) {
  const seen = await getDelivery(agencyId, deliveryId);
  if (!seen) throw notFound('Webhook delivery');
  const refused = (status: string) =>
    new AppError('conflict', `The delivery is ${status}; only a failed delivery can be retried`);
  if (seen.status !== 'failed') throw refused(seen.status);
  const audit = audited({
    agencyId,
    action: 'webhook_delivery.retried',
    target: { type: 'webhook_delivery', id: deliveryId },
    changes: [{ field: 'status', before: 'failed', after: 'pending' }],
  });
  if (!(await reopenDelivery(agencyId, deliveryId, seen.attempts, { ms: nowMs(), iso: nowIso() }, [audit])))
    throw refused((await getDelivery(agencyId, deliveryId))?.status ?? 'gone');
  try {
    await enqueueDelivery({ agencyId, deliveryId, attempt: seen.attempts + 1 });
  } catch (err) {
    // Not queued: failed again, so the caller's retry of this call is not refused as "pending".
    // (The retry's audit record stays: it was made, and undone by this.)
    await unreopenDelivery(agencyId, deliveryId, seen.attempts);
    throw err;
  }
  return { deliveryId };
}
