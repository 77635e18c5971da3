import { utcDate } from '#core/clock';
import { newId } from '#core/ids';
import { logger } from '#core/logger';
import { count } from '#core/metrics';
import type { AgencyItem, SubAccountItem } from '#db/items/account';
import {
  getRechargeState,
  markCapNotified,
  putRechargeRequest,
  type RechargeRequestItem,
  takeOpenSlot,
} from '#db/items/recharge';
import type { ResellingSettingsItem } from '#db/items/reselling-settings';
import { putDelivery, type WebhookDeliveryItem } from '#db/items/webhook-delivery';
import { itemKinds } from '#db/schema';
import { committedOrStale, throwing, unhandled } from '#db/transact';
import { newOutboxId, outboxWrite } from '../outbox';
import { dailyCap, maxAttempts, REQUEST_LIFETIME_MS } from './config';

export interface AutoRecharge {
  enabled: boolean;
  threshold: number;
  credits: number;
}

export type OpenOutcome = 'opened' | 'already_open' | 'capped' | 'not_below' | 'off';

export interface OpenInput {
  sub: SubAccountItem;
  agency: AgencyItem;
  settings: ResellingSettingsItem | undefined;
  /** The wallet's balance after the debit (or now, when auto-recharge is enabled). */
  balance: number;
  /** When the wallet moved: the request's creation time, its expiry's start and its day. */
  at: Date;
}

/**
 * Opens a recharge request when the wallet is below the sub-account's threshold: ONE
 * transaction takes the sub-account's open slot (conditional: none open, or the open one
 * expired; and under the day's cap), writes the request and, when the agency has an enabled
 * endpoint, the webhook delivery (whose insert queues it). However many debits race across
 * the threshold, one of them takes the slot; the others find it taken. Past the cap, the
 * agency is emailed instead, once per day.
 */
export async function openRechargeRequest(input: OpenInput): Promise<OpenOutcome> {
  const { sub, at } = input;
  const settings = sub.autoRecharge;
  if (!settings?.enabled || sub.creditMode !== 'reselling' || sub.status !== 'active') return 'off';
  if (input.balance >= settings.threshold) return 'not_below';
  const atMs = at.getTime();
  const day = utcDate(at);
  const cap = dailyCap();

  for (let round = 0; round < 3; round++) {
    const state = await getRechargeState(sub.agencyId, sub.id);
    if (state?.openRequestId && (state.openExpiresAt ?? 0) > atMs) return 'already_open';
    const sameDay = state?.day === day;
    if (sameDay && (state?.dayCount ?? 0) >= cap) {
      if (state?.capNotifiedDay !== day) await notifyCap(input, day, cap);
      return 'capped';
    }
    const request: RechargeRequestItem = {
      kind: itemKinds.rechargeRequest,
      id: newId('rechargeRequest', atMs),
      agencyId: sub.agencyId,
      subAccountId: sub.id,
      status: 'open',
      creditsRequested: settings.credits,
      balanceAtTrigger: input.balance,
      threshold: settings.threshold,
      createdAt: at.toISOString(),
      expiresAt: new Date(atMs + REQUEST_LIFETIME_MS).toISOString(),
    };
    const endpoint = input.settings?.autoRechargeWebhook;
    const delivery = endpoint?.enabled ? rechargeDelivery(request, sub, at) : undefined;
    if (delivery) request.deliveryId = delivery.id;
    const result = await committedOrStale<'state' | 'request' | 'delivery'>([
      takeOpenSlot({
        agencyId: sub.agencyId,
        subAccountId: sub.id,
        requestId: request.id,
        expiresAtMs: atMs + REQUEST_LIFETIME_MS,
        nowMs: atMs,
        day,
        sameDay,
        cap,
      }),
      putRechargeRequest(request),
      ...(delivery ? [putDelivery(delivery)] : []),
    ]);
    switch (result.kind) {
      case 'committed':
        count('RechargeRequestsOpened');
        logger.info('recharge request opened', { requestId: request.id, subAccountId: sub.id, deliveryId: delivery?.id });
        return 'opened';
      case 'stale':
        // Another opening (or a day rollover) got there first: read the state again and decide.
        if (result.failed.state) continue;
        return throwing(result);
      default:
        return unhandled(result);
    }
  }
  return 'already_open';
}

async function notifyCap(input: OpenInput, day: string, cap: number): Promise<void> {
  const { sub, agency, at } = input;
  if (!agency.email) return;
  const result = await committedOrStale([
    markCapNotified(sub.agencyId, sub.id, day),
    outboxWrite(
      newOutboxId(),
      {
        type: 'recharge.daily_cap_reached',
        agencyId: agency.id,
        agencyName: agency.name,
        to: agency.email,
        subAccountId: sub.id,
        subAccountName: sub.name,
        cap,
      },
      at,
    ),
  ]);
  switch (result.kind) {
    case 'committed':
    case 'stale': // told already today
      return;
    default:
      return unhandled(result);
  }
}

/** The `credits.recharge_requested` body, fixed at creation: every attempt sends (and signs) these bytes. */
export function rechargeDelivery(request: RechargeRequestItem, sub: SubAccountItem, at: Date): WebhookDeliveryItem {
  const payload = {
    type: 'credits.recharge_requested',
    timestamp: at.toISOString(),
    data: {
      requestId: request.id,
      agencyId: request.agencyId,
      subAccount: { id: sub.id, name: sub.name, email: sub.email ?? null },
      balance: request.balanceAtTrigger,
      threshold: request.threshold,
      creditsRequested: request.creditsRequested,
    },
  };
  return newDelivery(request.agencyId, 'credits.recharge_requested', JSON.stringify(payload), at, request.id);
}

export function newDelivery(
  agencyId: string,
  eventType: WebhookDeliveryItem['eventType'],
  payload: string,
  at: Date,
  requestId?: string,
): WebhookDeliveryItem {
  const id = newId('webhookDelivery', at.getTime());
  return {
    kind: itemKinds.webhookDelivery,
    id,
    agencyId,
    eventType,
    webhookId: `msg_${id.slice(4)}`,
    ...(requestId && { requestId }),
    payload,
    status: 'pending',
    attempts: 0,
    maxAttempts: maxAttempts(),
    nextAttemptAt: at.getTime(),
    createdAt: at.toISOString(),
    updatedAt: at.toISOString(),
  };
}
