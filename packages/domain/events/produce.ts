import type { DynamoDBRecord } from 'aws-lambda';
import { derivedId } from '#core/ids';
import { logger } from '#core/logger';
import { count } from '#core/metrics';
import { putDeliveryOnce, type WebhookDeliveryItem } from '#db/items/webhook-delivery';
import { getEventEndpoints, type StoredEventEndpoint } from '#db/items/webhook-endpoints';
import { itemKinds } from '#db/schema';
import { maxAttempts } from '../recharge/config';
import { EVENT_VERSION, eventEnvelope } from './catalog';
import { type EventDraft, eventsOf } from './sources';

/**
 * Events from the table stream (the recharge detector's event source: its filters pass the
 * items sources.ts reads). Each committed change the catalog names becomes one event, and one
 * delivery per enabled endpoint subscribed to its type; the delivery's insert queues it for
 * the sender, as an auto-recharge delivery's does. So an event exists iff its change
 * committed, and a request that failed produces none.
 *
 * Exactly once however often Lambda hands a batch again: the event id is derived from the
 * stream record (its `eventID`, the same on every redelivery) and the delivery id from the
 * event and the endpoint, and the delivery is a conditional put, so a second run writes
 * nothing. Returns the indexes of the records whose events could not be written (the caller
 * reports the first; Lambda retries from there).
 */
export async function produceEvents(records: DynamoDBRecord[]): Promise<number[]> {
  const byAgency = new Map<string, Array<{ index: number; event: ProducedEvent }>>();
  records.forEach((record, index) => {
    for (const draft of eventsOf(record)) {
      const event = produced(draft, record);
      if (!event) continue;
      const list = byAgency.get(draft.agencyId) ?? [];
      list.push({ index, event });
      byAgency.set(draft.agencyId, list);
    }
  });
  const failed: number[] = [];
  await Promise.all(
    [...byAgency].map(async ([agencyId, events]) => {
      let endpoints: StoredEventEndpoint[];
      try {
        endpoints = (await getEventEndpoints(agencyId)).filter((e) => e.enabled);
      } catch (err) {
        logger.warn('could not read the event endpoints', { agencyId, error: (err as Error).message });
        failed.push(...events.map((e) => e.index));
        return;
      }
      // In stream order per agency: deliveries of one sub-account's changes are written in the order they were made.
      for (const { index, event } of events) {
        for (const endpoint of endpoints.filter((e) => e.events.includes(event.body.type))) {
          try {
            if (await putDeliveryOnce(deliveryFor(event, endpoint))) count('WebhookEventsProduced');
          } catch (err) {
            logger.warn('could not write an event delivery', { eventId: event.body.id, error: (err as Error).message });
            failed.push(index);
          }
        }
      }
    }),
  );
  return failed;
}

interface ProducedEvent {
  at: number;
  body: { id: string; type: EventDraft['type']; version: number; createdAt: string; agencyId: string; data: unknown };
  /** The exact bytes every delivery of it sends and signs. */
  payload: string;
}

function produced(draft: EventDraft, record: DynamoDBRecord): ProducedEvent | undefined {
  const keys = record.dynamodb?.Keys;
  const origin = record.eventID ?? `${keys?.pk?.S}|${keys?.sk?.S}|${record.dynamodb?.SequenceNumber}`;
  const body = {
    id: derivedId('evt', draft.at, `${origin}|${draft.type}`),
    type: draft.type,
    version: EVENT_VERSION,
    createdAt: new Date(draft.at).toISOString(),
    agencyId: draft.agencyId,
    data: draft.data,
  };
  // What is published is what is sent. A payload the catalog refuses is a bug: logged and
  // dropped, never retried (a retry would stop this shard's recharge detection behind it).
  const checked = eventEnvelope(draft.type).safeParse(body);
  if (!checked.success) {
    logger.error('an event does not match the published catalog; dropped', { type: draft.type, issues: checked.error.issues });
    count('WebhookEventsMalformed');
    return undefined;
  }
  return { at: draft.at, body, payload: JSON.stringify(body) };
}

/** What an event is about, for ordering: its sub-account (created → updated → closed) or account (purchase paid → refunded), else its agency. */
function subjectOf(event: ProducedEvent): string {
  const data = event.body.data as { subAccountId?: unknown; subAccount?: { id?: unknown }; accountId?: unknown };
  const subject = data.subAccountId ?? data.subAccount?.id ?? data.accountId;
  return typeof subject === 'string' ? subject : event.body.agencyId;
}

function deliveryFor(event: ProducedEvent, endpoint: StoredEventEndpoint): WebhookDeliveryItem {
  const id = derivedId('whd', event.at, `${event.body.id}|${endpoint.id}`);
  const at = new Date(event.at).toISOString();
  return {
    kind: itemKinds.webhookDelivery,
    id,
    agencyId: event.body.agencyId,
    eventType: event.body.type,
    webhookId: `msg_${id.slice(4)}`,
    endpointId: endpoint.id,
    eventId: event.body.id,
    orderKey: `${endpoint.id}#${subjectOf(event)}`,
    payload: event.payload,
    status: 'pending',
    attempts: 0,
    maxAttempts: maxAttempts(),
    nextAttemptAt: event.at,
    createdAt: at,
    updatedAt: at,
  };
}
