import { randomUUID } from 'node:crypto';
import { now, nowMs } from '#core/clock';
import { logger } from '#core/logger';
import { count } from '#core/metrics';
import { getAccount } from '#db/items/account';
import { disableWebhookEndpoint, getResellingSettings, type StoredWebhookEndpoint } from '#db/items/reselling-settings';
import {
  type AttemptRecord,
  claimAttempt,
  getDelivery,
  previousInOrder,
  recordAttempt,
  releaseAttempt,
  type WebhookDeliveryItem,
} from '#db/items/webhook-delivery';
import { disableEventEndpoint, getEventEndpoint } from '#db/items/webhook-endpoints';
import { transact, transactIf } from '#db/transact';
import { newOutboxId, type OutboxEvent, outboxWrite } from '../outbox';
import { nextSqsDelaySeconds } from '../webhooks/backoff';
import { type DeliveryResult, postWebhook } from '../webhooks/deliver';
import { signWebhook } from '../webhooks/signing';
import { resolveAndCheck } from '../webhooks/webhook-url';
import { allowLoopbackHttp, deliveryTimeoutMs, nextAttemptAfter } from './config';
import { withAgencySlot } from './fairness';
import { type DeliveryMessage, enqueueDelivery } from './queue';
import { openSecrets } from './secrets';

export type SendOutcome = 'succeeded' | 'failed' | 'disabled' | 'retry_scheduled' | 'deferred' | 'dropped' | 'waiting';

/** Another attempt of this delivery is under way, or an earlier one is not recorded yet: SQS brings the message back. */
export class DeliveryBusy extends Error {
  constructor(id: string) {
    super(`delivery ${id}: another attempt is under way`);
    this.name = 'DeliveryBusy';
  }
}

/**
 * One attempt of one delivery, from its queue message. The attempt is claimed first (a
 * conditional write on `attempts`, with a lease), so a duplicate message cannot POST the same
 * attempt twice while its sender lives; a message for an attempt already made is dropped. A
 * failure with attempts left enqueues the next attempt's message BEFORE recording this one, so
 * a crash between the two costs at most a repeated POST (same webhook-id), never a lost retry.
 * The attempt runs holding one of the agency's few in-flight slots, or waits (fairness.ts).
 */
export async function sendDelivery(message: DeliveryMessage): Promise<SendOutcome> {
  if (message.notBefore !== undefined) {
    const delay = nextSqsDelaySeconds(message.notBefore, nowMs());
    if (delay > 0) {
      await enqueueDelivery(message, delay); // another hop of at most 900 s
      return 'deferred';
    }
  }
  const { agencyId, deliveryId, attempt } = message;
  const delivery = await getDelivery(agencyId, deliveryId);
  if (delivery?.status !== 'pending' || delivery.attempts >= attempt) return 'dropped';
  if (delivery.attempts < attempt - 1) throw new DeliveryBusy(deliveryId);
  if (attempt === 1 && (await earlierStillUnsent(delivery))) {
    await enqueueDelivery(message, 1);
    return 'deferred';
  }
  return withAgencySlot(message, (postOver) => attemptDelivery(delivery, attempt, postOver));
}

/** How long a delivery waits for the one before it under its order key at most: order gives way to liveness. */
export const ORDER_WAIT_MS = 60_000;

/**
 * Per endpoint and subject, in order of creation: a first attempt waits while the delivery made
 * just before it (same endpoint, same sub-account or agency) has not finished its own first
 * attempt, so a receiver gets sub_account.created before .updated, purchase.paid before
 * .refunded. Only first attempts: a failing receiver's retries (minutes to hours apart) hold
 * nothing back, and nothing waits longer than ORDER_WAIT_MS after the earlier one was made.
 */
async function earlierStillUnsent(delivery: WebhookDeliveryItem): Promise<boolean> {
  const before = await previousInOrder(delivery);
  if (before?.status !== 'pending') return false;
  const unsent = before.attempts === 0 || before.leaseToken !== undefined;
  return unsent && Date.parse(before.createdAt) > nowMs() - ORDER_WAIT_MS;
}

/**
 * The attempt itself, once its delivery is pending at attempt - 1 and a slot is held. The slot
 * goes back (`postOver`) as soon as the POST is over, before the outcome is written: the slot
 * covers the slow part only, and a delivery seen settled holds none.
 */
async function attemptDelivery(
  delivery: WebhookDeliveryItem,
  attempt: number,
  postOver: () => Promise<void>,
): Promise<SendOutcome> {
  const { agencyId, id: deliveryId } = delivery;
  const t = nowMs();
  const token = randomUUID();
  const timeoutMs = deliveryTimeoutMs();
  if (!(await claimAttempt(delivery, attempt, token, t, t + timeoutMs + 20_000))) {
    const again = await getDelivery(agencyId, deliveryId);
    if (again?.status !== 'pending' || again.attempts >= attempt) return 'dropped';
    throw new DeliveryBusy(deliveryId);
  }

  let url: string | undefined;
  let result: Pick<DeliveryResult, 'outcome' | 'statusCode' | 'error'>;
  try {
    const endpoint = await endpointOf(delivery);
    url = endpoint?.url;
    if (!endpoint?.enabled) {
      await postOver(); // none to make
      const why = endpoint ? `endpoint disabled (${endpoint.disabledReason ?? 'turned off'})` : 'no endpoint configured';
      await transact([recordAttempt(delivery, token, { attempt, status: 'failed', error: why, at: now().toISOString() })]);
      return 'failed';
    }
    result = await attemptPost(delivery, endpoint.url, endpoint.sealedSecrets, timeoutMs);
  } catch (err) {
    await releaseAttempt(delivery, token);
    throw err;
  }
  await postOver();
  const at = now().toISOString();
  const base = { attempt, statusCode: result.statusCode, error: result.error, at };
  logger.info('webhook attempt', { deliveryId, attempt, outcome: result.outcome, statusCode: result.statusCode });

  // Each outcome is recorded under the lease: when it expired and another sender took the
  // delivery over (the delivery's condition fails), that sender records from here: 'dropped'.
  if (result.outcome === 'success') {
    const record = recordAttempt(delivery, token, { ...base, status: 'succeeded', error: undefined });
    if (!(await transactIf('delivery', [record]))) return 'dropped';
    count('WebhooksDelivered');
    return 'succeeded';
  }
  if (result.outcome === 'gone') {
    // The endpoint is off before the delivery reads failed: whoever sees the failure sees why.
    await disableEndpoint(delivery, url as string, at);
    const recorded = await transactIf('delivery', [recordAttempt(delivery, token, { ...base, status: 'failed' })]);
    return recorded ? 'disabled' : 'dropped';
  }
  const next = nextAttemptAfter(attempt, nowMs(), delivery.maxAttempts);
  if (next === undefined) {
    const recorded = await finalFailure(delivery, token, { ...base, status: 'failed' }, url as string);
    return recorded ? 'failed' : 'dropped';
  }
  try {
    await enqueueDelivery({ agencyId, deliveryId, attempt: attempt + 1, notBefore: next }, nextSqsDelaySeconds(next, nowMs()));
  } catch (err) {
    await releaseAttempt(delivery, token);
    throw err;
  }
  const recorded = await transactIf('delivery', [
    recordAttempt(delivery, token, { ...base, status: 'pending', nextAttemptAt: next }),
  ]);
  return recorded ? 'retry_scheduled' : 'dropped';
}

/**
 * Where a delivery goes: the event endpoint it names, or else the agency's auto-recharge
 * endpoint. Read at each attempt, so a new URL, a rotated secret or a disabled endpoint
 * counts from the next attempt on.
 */
async function endpointOf(delivery: WebhookDeliveryItem): Promise<StoredWebhookEndpoint | undefined> {
  if (delivery.endpointId) return getEventEndpoint(delivery.agencyId, delivery.endpointId);
  return (await getResellingSettings(delivery.agencyId))?.autoRechargeWebhook;
}

/** The address check again (DNS may have changed since saving), then one signed POST to the pinned address. */
async function attemptPost(delivery: WebhookDeliveryItem, url: string, sealedSecrets: string, timeoutMs: number) {
  const checked = await resolveAndCheck(url, { allowLoopbackHttp: allowLoopbackHttp() });
  if (!checked.ok) return { outcome: 'failure' as const, error: checked.problem.message };
  const secrets = await openSecrets(delivery.agencyId, sealedSecrets);
  const headers = signWebhook({ msgId: delivery.webhookId, body: delivery.payload, secrets, timestamp: now() });
  return postWebhook({ target: checked.target, headers: { ...headers }, body: delivery.payload, timeoutMs });
}

/** A 410: the endpoint is turned off and the agency emailed, together, once (a second 410 finds it off already). */
async function disableEndpoint(delivery: WebhookDeliveryItem, url: string, at: string) {
  const reason = 'the endpoint answered 410 Gone';
  const email = await agencyEmail(delivery.agencyId, (agency) => ({
    type: 'webhook.endpoint_disabled',
    agencyId: delivery.agencyId,
    agencyName: agency.name,
    to: agency.email,
    url,
    reason,
    deliveryId: delivery.id,
    ...(delivery.endpointId && { endpointId: delivery.endpointId }),
  }));
  const disable = delivery.endpointId
    ? disableEventEndpoint(delivery.agencyId, delivery.endpointId, url, reason, at)
    : disableWebhookEndpoint(delivery.agencyId, url, reason, at);
  // The endpoint's condition failing: it is off already, or no longer at this URL.
  if (await transactIf('endpoint', [disable, ...email])) count('WebhookEndpointsDisabled');
}

/**
 * No attempt left: the delivery is `failed` and the agency is emailed, in one transaction (the
 * outbox); false when the lease was lost (nothing written).
 */
async function finalFailure(delivery: WebhookDeliveryItem, token: string, record: AttemptRecord, url: string): Promise<boolean> {
  const email = await agencyEmail(delivery.agencyId, (agency) => ({
    type: 'webhook.delivery_failed',
    agencyId: delivery.agencyId,
    agencyName: agency.name,
    to: agency.email,
    deliveryId: delivery.id,
    eventType: delivery.eventType,
    ...(delivery.requestId && { requestId: delivery.requestId }),
    ...(delivery.endpointId && { endpointId: delivery.endpointId }),
    url,
    attempts: record.attempt,
    lastError: record.error ?? 'failed',
  }));
  if (!(await transactIf('delivery', [recordAttempt(delivery, token, record), ...email]))) return false;
  count('WebhookDeliveriesFailed');
  return true;
}

/** The outbox write emailing the agency about a change, for that change's transaction; none when it has no address. */
async function agencyEmail(agencyId: string, event: (agency: { name: string; email: string }) => OutboxEvent) {
  const agency = await getAccount(agencyId);
  return agency?.email ? [outboxWrite(newOutboxId(), event({ name: agency.name, email: agency.email }), now())] : [];
}
