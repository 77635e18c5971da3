import type { DeliveryFailedEvent, EndpointDisabledEvent, RechargeCapEvent } from '../outbox';
import { escapeHtml, PLATFORM_NAME } from './html';

/** Emails to the agency about auto-recharge: nothing secret in them (no URL credentials, no signing secret). */
export function deliveryFailedEmail(event: DeliveryFailedEvent) {
  if (event.endpointId) return eventDeliveryFailedEmail(event, event.endpointId);
  const subject = `Auto-recharge webhook failed: ${event.eventType}`;
  const lines = [
    `Hello ${event.agencyName},`,
    '',
    `${PLATFORM_NAME} could not deliver the ${event.eventType} webhook ${event.deliveryId}${event.requestId ? ` (recharge request ${event.requestId})` : ''} to ${event.url} after ${event.attempts} attempts.`,
    `Last error: ${event.lastError}`,
    '',
    'Fix the endpoint, then retry the delivery: POST /v1/reselling/webhook-deliveries/{id}/retry, or grant the credits by hand.',
  ];
  const html = lines.map((l) => (l ? `<p>${escapeHtml(l)}</p>` : '')).join('\n');
  return { subject, text: lines.join('\n'), html };
}

export function endpointDisabledEmail(event: EndpointDisabledEvent) {
  if (event.endpointId) return eventEndpointDisabledEmail(event, event.endpointId);
  const subject = 'Auto-recharge webhook turned off';
  const lines = [
    `Hello ${event.agencyName},`,
    '',
    `Your auto-recharge endpoint ${event.url} answered 410 Gone to webhook delivery ${event.deliveryId}, so ${PLATFORM_NAME} has turned it off: ${event.reason}.`,
    'Recharge requests still open and wait for you; no webhook is sent until the endpoint is saved again (PUT /v1/reselling/auto-recharge-webhook). You can grant credits by hand at any time.',
  ];
  const html = lines.map((l) => (l ? `<p>${escapeHtml(l)}</p>` : '')).join('\n');
  return { subject, text: lines.join('\n'), html };
}

export function rechargeCapEmail(event: RechargeCapEvent) {
  const subject = `Auto-recharge paused for today: ${event.subAccountName}`;
  const lines = [
    `Hello ${event.agencyName},`,
    '',
    `${event.subAccountName} (${event.subAccountId}) has reached today's limit of ${event.cap} auto-recharge requests, and its wallet is below its threshold again.`,
    'No further recharge request opens for it until tomorrow (UTC). You can grant credits by hand at any time.',
  ];
  const html = lines.map((l) => (l ? `<p>${escapeHtml(l)}</p>` : '')).join('\n');
  return { subject, text: lines.join('\n'), html };
}

/** The same news about an event webhook endpoint (API.md, Event webhooks). */
function eventDeliveryFailedEmail(event: DeliveryFailedEvent, endpointId: string) {
  const subject = `Event webhook failed: ${event.eventType}`;
  const lines = [
    `Hello ${event.agencyName},`,
    '',
    `${PLATFORM_NAME} could not deliver the ${event.eventType} event (delivery ${event.deliveryId}) to your endpoint ${endpointId} at ${event.url} after ${event.attempts} attempts.`,
    `Last error: ${event.lastError}`,
    '',
    `Fix the endpoint, then retry the delivery: POST /v1/webhook-endpoints/${endpointId}/deliveries/{id}/retry.`,
  ];
  const html = lines.map((l) => (l ? `<p>${escapeHtml(l)}</p>` : '')).join('\n');
  return { subject, text: lines.join('\n'), html };
}

function eventEndpointDisabledEmail(event: EndpointDisabledEvent, endpointId: string) {
  const subject = 'Event webhook endpoint turned off';
  const lines = [
    `Hello ${event.agencyName},`,
    '',
    `Your event webhook endpoint ${endpointId} at ${event.url} answered 410 Gone to delivery ${event.deliveryId}, so ${PLATFORM_NAME} has turned it off: ${event.reason}.`,
    `No event is sent to it until it is turned on again (PATCH /v1/webhook-endpoints/${endpointId} with {"enabled": true}).`,
  ];
  const html = lines.map((l) => (l ? `<p>${escapeHtml(l)}</p>` : '')).join('\n');
  return { subject, text: lines.join('\n'), html };
}
