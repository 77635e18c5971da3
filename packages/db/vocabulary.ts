/**
 * The names the table stores, defined once below the domain that gives them meaning: the plans
 * and features there are, who acted, and the kinds of ledger entry. Which plan grants which
 * feature, how a caller becomes an actor and what each entry does are the domain's
 * (domain/features.ts, domain/auth/principal.ts, domain/ledger); the item modules only store them.
 */
export const features = ['campaigns', 'ai_bot', 'api_access', 'usage_export', 'white_label', 'reselling'] as const;
export type Feature = (typeof features)[number];

export const plans = ['starter', 'pro', 'agency'] as const;
export type Plan = (typeof plans)[number];

/** Who made a change: the platform, a user, an API key, or an agency user assisting a sub-account. */
export type Actor =
  | { type: 'platform' }
  | { type: 'user'; userId: string }
  | { type: 'api_key'; apiKeyId: string }
  | { type: 'assist'; userId: string; accountId: string };

export const usageTypes = ['ai_response', 'campaign_message'] as const;
export type UsageType = (typeof usageTypes)[number];

/**
 * `purchase`: credits bought through Stripe Checkout land; `refund`: a Stripe refund takes its
 * share back (or gives it back when the refund fails); `dispute`: a chargeback takes the
 * payment's credits back while it is open or lost (and gives them back when it is won).
 */
export const entryTypes = ['top_up', 'grant', ...usageTypes, 'purchase', 'refund', 'dispute'] as const;
export type EntryType = (typeof entryTypes)[number];

/** The event webhooks' types (API.md, Event webhooks); what each carries is the domain's catalog (domain/events/catalog.ts). */
export const eventTypes = [
  'sub_account.created',
  'sub_account.updated',
  'sub_account.closed',
  'sub_account.reopened',
  'credit_limit.reached',
  'grant.created',
  'purchase.paid',
  'purchase.refunded',
  'purchase.disputed',
  'auto_top_up.succeeded',
  'auto_top_up.failed',
  'pool.low',
  'wallet.low',
  'recharge.requested',
] as const;
export type EventType = (typeof eventTypes)[number];
