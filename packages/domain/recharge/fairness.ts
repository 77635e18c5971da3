import { randomUUID } from 'node:crypto';
import { nowMs } from '#core/clock';
import { logger } from '#core/logger';
import { count } from '#core/metrics';
import { releaseSlot, takeSlot } from '#db/items/webhook-slots';
import { queueDefinitions } from '#queues/definitions';
import { deliveryTimeoutMs } from './config';
import { type DeliveryMessage, enqueueDelivery } from './queue';

/**
 * Fairness in the webhooks queue every agency shares: at most AGENCY_IN_FLIGHT_CAP of one
 * agency's deliveries are being attempted at once, so an agency whose endpoint takes its full
 * 10 s on each of a thousand deliveries holds at most that many of the senders' hands, and the
 * other agencies' messages go through beside it.
 *
 * The cap is a slot item per agency (db/items/webhook-slots.ts): one conditional write to
 * take a slot, one to give it back, each slot leased for the sender function's timeout (no
 * sender outlives it), so a crashed sender's slot frees itself. A message that finds every
 * slot held is sent again with a short delay (1, 2, 4 … s, at most the receiver's timeout:
 * a slot frees within that) and its own copy deleted, as the retries already are. That is
 * the cheap way that keeps the queue's counts honest: the wait records no attempt, loses no
 * message (the new copy is queued before the old one is acknowledged; a crash in between
 * leaves a duplicate, which the attempt's claim drops), and the new copy starts at receive
 * count 0, so waiting never walks a message to the DLQ, which a visibility change would
 * (each receive counts). What it costs: a waiting message is received, written once (the
 * refused take) and sent again per wait; the doubling keeps that to about one per message per
 * receiver timeout while the agency's backlog lasts.
 */
export const AGENCY_IN_FLIGHT_CAP = 5;

/** Waits carried in the message are counted up to this; the delay stopped growing long before. */
const MAX_WAITS = 100;

/**
 * Runs `attempt` holding one of the agency's slots; without a free slot the message waits in the
 * queue instead. `attempt` may give the slot back early (`giveBack`, once its POST is over);
 * it goes back at the end otherwise.
 */
export async function withAgencySlot<T>(
  message: DeliveryMessage,
  attempt: (giveBack: () => Promise<void>) => Promise<T>,
): Promise<T | 'waiting'> {
  const token = randomUUID();
  const t = nowMs();
  const leaseUntil = t + queueDefinitions.webhooks.consumerTimeoutSeconds * 1000;
  if (!(await takeSlot(message.agencyId, token, AGENCY_IN_FLIGHT_CAP, t, leaseUntil))) {
    const waits = Math.min((message.waits ?? 0) + 1, MAX_WAITS);
    await enqueueDelivery({ ...message, waits }, waitSeconds(waits));
    count('WebhookDeliveriesWaiting');
    return 'waiting';
  }
  let held = true;
  const giveBack = async () => {
    if (!held) return;
    held = false;
    await releaseSlot(message.agencyId, token).catch((err: unknown) =>
      // The attempt goes on; the slot frees itself when its lease ends.
      logger.warn('webhook slot not given back', { agencyId: message.agencyId, error: String(err) }),
    );
  };
  try {
    return await attempt(giveBack);
  } finally {
    await giveBack();
  }
}

/** The delay before the `waits`-th look for a slot: doubling from 1 s up to the receivers' timeout, spread over its upper half. */
export function waitSeconds(waits: number): number {
  const ceiling = Math.max(1, Math.ceil(deliveryTimeoutMs() / 1000));
  const full = Math.min(2 ** Math.min(waits - 1, 10), ceiling);
  return Math.max(1, Math.ceil(full * (0.5 + Math.random() / 2)));
}
