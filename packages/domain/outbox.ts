import { newId } from '#core/ids';
import { putOutbox } from '#db/items/outbox';

/**
 * Outbox events: written in the same transaction as the change that causes them, picked up
 * from the table's stream by the forwarder, queued, and carried out by the notifier. So an
 * email goes out iff its change committed, even if the request crashed right after.
 */
export interface CredentialsEmailEvent {
  type: 'sub_account.credentials';
  subAccountId: string;
  agencyId: string;
  agencyName: string;
  clientName: string;
  to: string;
  /** The generated password, sealed (see crypto/secret-box); the item is deleted once sent. */
  sealedPassword: string;
}

/** The agency owner's email verification link (sign-up, resend). */
export interface VerifyEmailEvent {
  type: 'agency.verify_email';
  agencyId: string;
  agencyName: string;
  recipientName: string;
  to: string;
  /** The single-use token, sealed like a generated password; the item is deleted once sent. */
  sealedToken: string;
}

/** A password reset link for any user; a client's names its agency as the sender. */
export interface PasswordResetEvent {
  type: 'user.password_reset';
  userId: string;
  /** Who the email says it is from: the agency's name for a client, none for an agency user. */
  agencyName?: string;
  recipientName?: string;
  to: string;
  sealedToken: string;
}

/** A webhook delivery (auto-recharge's or an event endpoint's) ran out of attempts: the agency is told. */
export interface DeliveryFailedEvent {
  type: 'webhook.delivery_failed';
  agencyId: string;
  agencyName: string;
  to: string;
  deliveryId: string;
  eventType: string;
  requestId?: string;
  /** An event endpoint's delivery (absent: the auto-recharge endpoint's). */
  endpointId?: string;
  url: string;
  attempts: number;
  lastError: string;
}

/** A webhook endpoint (auto-recharge's, or an event endpoint: `endpointId`) answered 410 Gone and was turned off: the agency is told. */
export interface EndpointDisabledEvent {
  type: 'webhook.endpoint_disabled';
  agencyId: string;
  agencyName: string;
  to: string;
  url: string;
  reason: string;
  deliveryId: string;
  endpointId?: string;
}

/** A sub-account reached its daily cap of recharge requests: the agency is told instead (once a day). */
export interface RechargeCapEvent {
  type: 'recharge.daily_cap_reached';
  agencyId: string;
  agencyName: string;
  to: string;
  subAccountId: string;
  subAccountName: string;
  cap: number;
}

/**
 * Money news the agency must hear about one of its purchases or its clients' (landing.ts,
 * settlement.ts): credits that landed where nobody can spend them yet, a payment refunded
 * because its sub-account had closed, a chargeback opened, won or lost.
 */
export interface PurchaseNoticeEvent {
  type: 'purchase.notice';
  notice: 'landed_in_manual_mode' | 'refunded_account_closed' | 'dispute_opened' | 'dispute_won' | 'dispute_lost';
  agencyId: string;
  agencyName: string;
  to: string;
  purchaseId: string;
  /** The buyer: a sub-account (its wallet) or the agency itself (its pool). */
  accountId: string;
  accountName: string;
  balance: 'pool' | 'wallet';
  /** Credits concerned: landed, taken back, or returned. */
  credits: number;
  /** Credits the balance could not give back (disputes). */
  shortfall: number;
  /** Minor units concerned: paid, disputed. */
  amount: number;
  currency: string;
}

/**
 * Auto top-up news for the agency (auto-top-up/attempt.ts): the card was declined, the bank asks
 * for authentication (with the Checkout page to pay on), three failures in a row turned auto
 * top-up off, or the day's cap of attempts was reached.
 */
export interface TopUpNoticeEvent {
  type: 'auto_top_up.notice';
  notice: 'failed' | 'requires_action' | 'disabled' | 'daily_cap';
  agencyId: string;
  agencyName: string;
  to: string;
  purchaseId?: string;
  credits: number;
  amount: number;
  currency: string;
  /** Why the card was refused, in plain words. */
  reason?: string;
  /** requires_action: the Checkout page where the payment can be completed. */
  payUrl?: string;
  failuresInARow: number;
  cap?: number;
}

/** A balance went below the agency's alert level (one per crossing; auto-top-up/alerts.ts). */
export interface LowBalanceEvent {
  type: 'low_balance.alert';
  agencyId: string;
  agencyName: string;
  to: string;
  balance: 'pool' | 'wallet';
  accountId: string;
  accountName: string;
  level: number;
  credits: number;
}

export type OutboxEvent =
  | TopUpNoticeEvent
  | LowBalanceEvent
  | PurchaseNoticeEvent
  | CredentialsEmailEvent
  | VerifyEmailEvent
  | PasswordResetEvent
  | DeliveryFailedEvent
  | EndpointDisabledEvent
  | RechargeCapEvent;

export const newOutboxId = (): string => newId('outbox');

/** The outbox write for an event, to put in the transaction of the change that causes it. */
export const outboxWrite = (id: string, event: OutboxEvent, now: Date) => putOutbox(id, event, now);
