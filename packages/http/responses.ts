import { errorCodes } from '#core/errors';
import { type IdKind, idPattern } from '#core/ids';
import * as z from '#core/zod';
import { eventTypes } from '#domain/events/catalog';
import { features, plans } from '#domain/features';
import { entryTypes, usageTypes } from '#domain/ledger/schemas';
import { purchaseStatuses, webhookOutcomes } from '#domain/reselling/event-types';
import { PRICE_PATTERN } from '#domain/reselling/money';

/**
 * What the API answers, as zod schemas, every field the server sends with its type and
 * nullability. Objects are closed: a field the server sends but this file does not declare
 * fails the tests, which validate every response against the published document. Each export
 * is a named component of the OpenAPI document (`components.schemas.<name>`).
 */
const id = (kind: IdKind) => z.string().check(z.regex(idPattern(kind)));
const timestamp = z.iso.datetime();
const date = z.iso.date();
const credits = z.int().check(z.minimum(0));
const accountId = z.string().check(z.regex(new RegExp(`${idPattern('agency').source}|${idPattern('subAccount').source}`)));
const page = <T extends z.ZodMiniType>(item: T) => z.strictObject({ items: z.array(item), nextCursor: z.nullable(z.string()) });

export const Problem = z.strictObject({
  type: z.string(),
  title: z.string(),
  status: z.int(),
  code: z.enum(Object.keys(errorCodes) as [keyof typeof errorCodes]),
  detail: z.optional(z.string()),
  errors: z.optional(z.array(z.strictObject({ field: z.string(), message: z.string() }))),
  instance: z.optional(z.string()),
  /** price_below_minimum: the lowest allowed per-credit price (decimal minor units); amount_too_small: the lowest amount (minor units). */
  minimum: z.optional(z.string()),
  currency: z.optional(z.string()),
  /** invalid_webhook_url: why (`scheme`, `address`, `hostname`, `resolution_failed`…) and, for `address`, which address rule. */
  reason: z.optional(z.string()),
  refusal: z.optional(z.string()),
});

export const Actor = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('platform') }),
  z.strictObject({ type: z.literal('user'), userId: id('user') }),
  z.strictObject({ type: z.literal('api_key'), apiKeyId: id('apiKey') }),
  z.strictObject({ type: z.literal('assist'), userId: id('user'), accountId: id('subAccount') }),
]);

export const Health = z.strictObject({ status: z.literal('ok') });
export const Ready = z.strictObject({ status: z.literal('ready') });
export const OpenApiDocument = z.looseObject({ openapi: z.string(), paths: z.record(z.string(), z.unknown()) });

export const Agency = z.strictObject({
  id: id('agency'),
  name: z.string(),
  plan: z.enum(plans),
  features: z.array(z.enum(features)),
  status: z.enum(['active', 'suspended']),
  /** The owner confirmed the email; until then nothing emails a third party (403 `email_not_verified`). */
  emailVerified: z.boolean(),
  createdAt: timestamp,
});
export const AgencyResponse = z.strictObject({ agency: Agency });
export const User = z.strictObject({ id: id('user'), email: z.string(), name: z.nullable(z.string()) });
export const SignupResponse = z.strictObject({ agency: Agency, user: User, token: z.string(), expiresAt: timestamp });
export const LoginResponse = z.strictObject({
  token: z.string(),
  expiresAt: timestamp,
  principal: z.strictObject({ userId: id('user'), accountId, accountType: z.enum(['agency', 'sub_account']) }),
});

export const SwitcherEntry = z.strictObject({
  id: z.string(),
  name: z.string(),
  type: z.enum(['agency', 'sub_account']),
  status: z.enum(['active', 'closed']),
});
export const MeResponse = z.strictObject({
  principal: z.strictObject({
    userId: id('user'),
    accountId,
    accountType: z.enum(['agency', 'sub_account']),
    agencyId: id('agency'),
    /** Assist sessions only: the sub-account acted as, and the agency user behind it. */
    assist: z.optional(z.literal(true)),
    actingAs: z.optional(id('subAccount')),
    actor: z.optional(z.strictObject({ userId: id('user') })),
  }),
  accounts: z.array(SwitcherEntry),
  /** Agency users only: what the plan allows, and whether the owner confirmed the email. */
  agency: z.optional(z.strictObject({ plan: z.enum(plans), features: z.array(z.enum(features)), emailVerified: z.boolean() })),
  /** More sub-accounts: the same call with this cursor. */
  nextCursor: z.nullable(z.string()),
});

/** One audited write: who, what (the changed fields before and after; never a secret), when, from which request. */
export const AuditRecord = z.strictObject({
  id: id('auditRecord'),
  at: timestamp,
  action: z.string(),
  target: z.strictObject({ type: z.string(), id: z.string() }),
  actor: z.strictObject({
    type: z.enum(['user', 'api_key', 'platform', 'assist']),
    /** The user; for `assist`, the agency user behind the session. */
    userId: z.optional(id('user')),
    apiKeyId: z.optional(id('apiKey')),
    /** `assist` only: the sub-account acted as. */
    assistedAccountId: z.optional(id('subAccount')),
  }),
  changes: z.array(z.strictObject({ field: z.string(), before: z.unknown(), after: z.unknown() })),
  requestId: z.string(),
  sourceIp: z.string(),
});
export const AuditLog = page(AuditRecord);

export const ApiKey = z.strictObject({ id: id('apiKey'), name: z.string(), hint: z.string(), createdAt: timestamp });
export const ApiKeyCreated = z.extend(ApiKey, { key: z.string().check(z.regex(/^ak_[A-Za-z0-9_-]{43}$/)) });
export const ApiKeyList = page(ApiKey);
export const AssistSession = z.strictObject({ token: z.string(), expiresAt: timestamp, subAccountId: id('subAccount') });

export const Address = z.strictObject({
  line1: z.optional(z.string()),
  line2: z.optional(z.string()),
  city: z.optional(z.string()),
  region: z.optional(z.string()),
  postalCode: z.optional(z.string()),
  country: z.optional(z.string()),
});
export const SubAccount = z.strictObject({
  id: id('subAccount'),
  agencyId: id('agency'),
  name: z.string(),
  email: z.string(),
  phone: z.nullable(z.string()),
  timezone: z.nullable(z.string()),
  website: z.nullable(z.string()),
  address: z.nullable(Address),
  status: z.enum(['active', 'closed']),
  creditMode: z.enum(['manual', 'reselling']),
  monthlyCreditLimit: z.nullable(credits),
  creditsUsedThisMonth: credits,
  features: z.array(z.enum(features)),
  /** Whether the client has a login; without one the agency works in the account by switching or assisting. */
  clientLogin: z.boolean(),
  /** Reselling mode: when the wallet drops below `threshold`, a recharge request for `credits` opens. */
  autoRecharge: z.nullable(z.strictObject({ enabled: z.boolean(), threshold: credits, credits: z.int().check(z.minimum(1)) })),
  createdAt: timestamp,
  updatedAt: timestamp,
  closedAt: z.nullable(timestamp),
});
/** `password` and `loginEmail` only with a client login: the password is shown this once. */
export const SubAccountCreated = z.strictObject({
  subAccount: SubAccount,
  password: z.optional(z.string().check(z.minLength(16))),
  loginEmail: z.optional(z.string()),
});
/** New client credentials: the password is shown this once (and emailed to the client). */
export const ClientCredentials = z.strictObject({ password: z.string().check(z.minLength(16)), email: z.string() });
/** A new session after a password change: every earlier session of the user has ended. */
export const NewSession = z.strictObject({ token: z.string(), expiresAt: timestamp });
/** Taken; what happens next is by email (password reset, verification resend). */
export const Accepted = z.strictObject({ status: z.literal('accepted') });
export const SubAccountResponse = z.strictObject({ subAccount: SubAccount });
export const SubAccountList = page(SubAccount);

/** One shape wherever an entry appears: usage, top-ups, grants and the history. Credits are signed. */
export const LedgerEntry = z.strictObject({
  id: id('transaction'),
  createdAt: timestamp,
  type: z.enum(entryTypes),
  credits: z.int(),
  /**
   * The balance right after this entry. Null while the balance was busy and part of it was set
   * aside for the containers serving it (lanes): there is then no one running balance to show;
   * GET /v1/credits/balance (or the wallet) is always exact.
   */
  balanceAfter: z.nullable(credits),
  balanceType: z.enum(['pool', 'wallet']),
  accountId,
  subAccountId: z.nullable(id('subAccount')),
  contactId: z.nullable(z.string()),
  campaignId: z.nullable(z.string()),
  conversationId: z.nullable(z.string()),
  reference: z.nullable(z.string()),
  requestId: z.nullable(z.string()),
  actor: Actor,
  payment: z.nullable(
    z.strictObject({
      purchaseId: id('purchase'),
      amount: z.int().check(z.minimum(0)),
      currency: z.string(),
      stripeAccountId: z.nullable(z.string()),
      checkoutSessionId: z.nullable(z.string()),
      paymentIntentId: z.nullable(z.string()),
      chargeId: z.nullable(z.string()),
    }),
  ),
});
export const UsageRecorded = z.strictObject({ entry: LedgerEntry });
/**
 * What one event of a usage batch got: what a single usage call with its key would have
 * answered, its status and its entry (201) or its problem (each with that status). 503 and 429:
 * the event was not judged (a busy balance, the time ran out, a dependency); send it again
 * with the same key.
 */
export const UsageEventResult = z.union([
  z.strictObject({ idempotencyKey: z.string(), status: z.literal(201), entry: LedgerEntry }),
  z.strictObject({
    idempotencyKey: z.string(),
    status: z.int().check(z.minimum(400), z.maximum(599)),
    problem: z.extend(Problem, {
      code: z.enum([
        'insufficient_credits',
        'credit_limit_reached',
        'not_found',
        'idempotency_key_reused',
        'account_closed',
        'throttled',
        'try_again',
        'service_unavailable',
      ]),
    }),
  }),
]);
/** One result per event, in the order the events were sent. */
export const UsageBatchRecorded = z.strictObject({ results: z.array(UsageEventResult) });
export const CreditsMoved = z.strictObject({ entry: LedgerEntry, balance: credits });
/** How long the balance lasts at the pace of the last 7 days (or 30); null with no use to judge by (ledger/runway.ts). */
const Runway = z.nullable(
  z.strictObject({ days: z.int().check(z.minimum(0)), basis: z.enum(['7d', '30d']), burnPerDay: z.number().check(z.minimum(0)) }),
);
export const PoolBalance = z.strictObject({ balance: credits, currency: z.literal('credits'), runway: Runway });
export const TransactionList = page(LedgerEntry);
export const Wallet = z.strictObject({
  balance: credits,
  purchased: credits,
  consumed: credits,
  refunded: credits,
  currency: z.literal('credits'),
  runway: Runway,
});

const Series = z.array(z.strictObject({ date, credits }));
export const AgencyUsage = z.strictObject({
  from: date,
  to: date,
  total: credits,
  agencyOwn: credits,
  /** How many sub-accounts used credits in the range: the length of the whole ranking. */
  subAccountsWithUsage: z.int().check(z.minimum(0)),
  /** The sub-accounts that used credits, most first (then by id), `limit` of them from the cursor's rank. */
  bySubAccount: z.array(z.strictObject({ subAccountId: id('subAccount'), name: z.nullable(z.string()), credits })),
  series: Series,
  /** The next ranks of bySubAccount (the same from/to); the totals and series are the whole range's on every page. */
  nextCursor: z.nullable(z.string()),
});
/** An account's own usage: never a balance. */
export const AccountUsage = z.strictObject({
  from: date,
  to: date,
  total: credits,
  byType: z.strictObject(
    Object.fromEntries(usageTypes.map((t) => [t, credits])) as Record<(typeof usageTypes)[number], typeof credits>,
  ),
  series: Series,
});

export const Campaign = z.strictObject({
  id: id('campaign'),
  accountId,
  name: z.string(),
  settings: z.record(z.string(), z.unknown()),
  instructions: z.string(),
  faqs: z.array(z.strictObject({ question: z.string(), answer: z.string() })),
  configuration: z.record(z.string(), z.unknown()),
  copiedFrom: z.nullable(z.strictObject({ campaignId: id('campaign'), accountId: z.string() })),
  createdBy: Actor,
  updatedBy: Actor,
  createdAt: timestamp,
  updatedAt: timestamp,
});
export const CampaignResponse = z.strictObject({ campaign: Campaign });
export const CampaignList = page(Campaign);
export const CampaignCopied = z.union([
  z.strictObject({ campaign: Campaign }),
  z.strictObject({ campaigns: z.array(Campaign).check(z.minLength(1), z.maxLength(25)) }),
]);

// Reselling and credit purchases (Stripe Checkout).
const money = z.int().check(z.minimum(0));
const currencyCode = z.string().check(z.regex(/^[a-z]{3}$/));
const decimalPrice = z.string().check(z.regex(PRICE_PATTERN));
const CreditPackage = z.strictObject({ id: z.string(), name: z.string(), credits: z.int().check(z.minimum(1)), price: money });
const Pricing = z.strictObject({ currency: currencyCode, perCreditPrice: decimalPrice, packages: z.array(CreditPackage) });

export const StripeConnected = z.strictObject({ accountId: z.string().check(z.regex(/^acct_/)), onboardingUrl: z.string() });
export const ResellingSettings = z.strictObject({
  stripe: z.nullable(z.strictObject({ accountId: z.string(), chargesEnabled: z.boolean(), detailsSubmitted: z.boolean() })),
  pricing: z.nullable(Pricing),
  autoRechargeWebhook: z.nullable(z.strictObject({ url: z.string(), enabled: z.boolean() })),
  platform: z.strictObject({
    currencies: z.array(currencyCode),
    /** Per currency: the lowest per-credit price an agency may set (decimal minor units). */
    minimumCreditPrice: z.record(currencyCode, decimalPrice),
    /** Per currency: the platform's application fee per credit sold (decimal minor units). */
    applicationFeePerCredit: z.record(currencyCode, decimalPrice),
  }),
});
export const PricingSaved = z.strictObject({ pricing: Pricing });
export const CreditOffers = z.strictObject({
  currency: currencyCode,
  perCreditPrice: decimalPrice,
  packages: z.array(CreditPackage),
  /** The fewest and most credits one purchase of `credits` may be for. */
  minimumCredits: z.int().check(z.minimum(1)),
  maximumCredits: z.int().check(z.minimum(0)),
});
export const CreditPurchase = z.strictObject({
  id: id('purchase'),
  status: z.enum(purchaseStatuses),
  credits: z.int().check(z.minimum(1)),
  amount: money,
  currency: currencyCode,
  packageId: z.nullable(z.string()),
  checkoutSessionId: z.nullable(z.string()),
  /** `auto_top_up`: charged to the agency's saved card when its pool crossed the threshold. */
  trigger: z.enum(['manual', 'auto_top_up']),
  createdAt: timestamp,
  paidAt: z.nullable(timestamp),
  amountRefunded: money,
  creditsRefunded: credits,
  /** Held back by an open or lost dispute (chargeback), and the credits that stands for. */
  amountDisputed: money,
  creditsDisputed: credits,
});
export const CreditPurchaseCreated = z.strictObject({ purchase: CreditPurchase, checkoutUrl: z.string() });
export const CreditPurchaseList = page(CreditPurchase);
export const ResellingDashboard = z.strictObject({
  currency: currencyCode,
  from: date,
  to: date,
  items: z.array(
    z.strictObject({
      subAccountId: id('subAccount'),
      name: z.string(),
      purchasedCredits: credits,
      grantedCredits: credits,
      refundedCredits: credits,
      consumedCredits: credits,
      remaining: credits,
      /** Spend in `currency`, net of refunds (minor units); `spend` has every currency. */
      totalSpend: z.int(),
      spend: z.array(z.strictObject({ currency: currencyCode, amount: z.int() })),
      purchases: credits,
      /** `refunded`: credits taken back that day, net of any given back (a failed refund, a dispute won). */
      series: z.array(z.strictObject({ date, purchased: credits, consumed: credits, refunded: z.int() })),
    }),
  ),
  nextCursor: z.nullable(z.string()),
});
export const StripeWebhookReceived = z.strictObject({
  received: z.literal(true),
  outcome: z.enum(webhookOutcomes),
});

/** The auto-recharge endpoint; `secret` (Standard Webhooks, `whsec_…`) only when it was just created. */
export const WebhookEndpoint = z.strictObject({
  url: z.string(),
  enabled: z.boolean(),
  /** Why it was turned off (the receiver answered 410 Gone); null while enabled. */
  disabledReason: z.nullable(z.string()),
});
export const WebhookEndpointSaved = z.extend(WebhookEndpoint, {
  secret: z.optional(z.string().check(z.regex(/^whsec_/))),
});
export const WebhookSecret = z.strictObject({ secret: z.string().check(z.regex(/^whsec_/)) });
export const WebhookDeliveryAccepted = z.strictObject({ deliveryId: id('webhookDelivery') });
export const RechargeRequest = z.strictObject({
  id: id('rechargeRequest'),
  subAccountId: id('subAccount'),
  status: z.enum(['open', 'fulfilled', 'expired']),
  creditsRequested: z.int().check(z.minimum(1)),
  balanceAtTrigger: credits,
  threshold: credits,
  /** The webhook delivery that announced it; null when the agency had no enabled endpoint then. */
  deliveryId: z.nullable(id('webhookDelivery')),
  createdAt: timestamp,
  fulfilledAt: z.nullable(timestamp),
  expiresAt: timestamp,
});
export const RechargeRequestList = page(RechargeRequest);
/** Where a delivery stands, the same for auto-recharge and event deliveries (one sender sends both). */
const deliveryAttempts = {
  status: z.enum(['pending', 'succeeded', 'failed']),
  attempts: z.int().check(z.minimum(0)),
  lastStatusCode: z.nullable(z.int()),
  lastError: z.nullable(z.string()),
  nextAttemptAt: z.nullable(timestamp),
  createdAt: timestamp,
};
export const WebhookDelivery = z.strictObject({
  id: id('webhookDelivery'),
  eventType: z.enum(['credits.recharge_requested', 'webhook.test']),
  /** The Standard Webhooks `webhook-id` header: the same on every attempt. */
  webhookId: z.string(),
  requestId: z.nullable(id('rechargeRequest')),
  ...deliveryAttempts,
});
export const WebhookDeliveryList = page(WebhookDelivery);

// Event webhooks (API.md, Event webhooks).
export const EventWebhookEndpoint = z.strictObject({
  id: id('webhookEndpoint'),
  url: z.string(),
  events: z.array(z.enum(eventTypes)),
  description: z.nullable(z.string()),
  enabled: z.boolean(),
  /** Why it was turned off (the receiver answered 410 Gone); null while enabled. */
  disabledReason: z.nullable(z.string()),
  createdAt: timestamp,
  updatedAt: timestamp,
});
/** `secret` (Standard Webhooks, `whsec_…`): shown here and on rotation only. */
export const EventWebhookEndpointCreated = z.strictObject({
  endpoint: EventWebhookEndpoint,
  secret: z.string().check(z.regex(/^whsec_/)),
});
export const EventWebhookEndpointList = page(EventWebhookEndpoint);
export const EventWebhookDelivery = z.strictObject({
  id: id('webhookDelivery'),
  eventType: z.enum([...eventTypes, 'webhook.test']),
  /** The Standard Webhooks `webhook-id` header: the same on every attempt. */
  webhookId: z.string(),
  endpointId: z.nullable(id('webhookEndpoint')),
  /** The event's `id` (`evt_…`); null for a `webhook.test`. */
  eventId: z.nullable(z.string()),
  ...deliveryAttempts,
});
export const EventWebhookDeliveryList = page(EventWebhookDelivery);

// Auto top-up and low-balance alerts (the agency pool).
export const SetupCheckout = z.strictObject({ checkoutUrl: z.string() });
export const AutoTopUp = z.strictObject({
  enabled: z.boolean(),
  threshold: z.nullable(credits),
  credits: z.nullable(z.int().check(z.minimum(1))),
  /** The saved card as a person recognises it; nothing more of it is kept. */
  paymentMethod: z.nullable(z.strictObject({ brand: z.string(), last4: z.string(), expMonth: z.int(), expYear: z.int() })),
  lastAttempt: z.nullable(
    z.strictObject({
      status: z.enum(['succeeded', 'failed', 'requires_action']),
      at: timestamp,
      /** Why the card was refused, in plain words. */
      reason: z.optional(z.string()),
    }),
  ),
  failuresInARow: z.int().check(z.minimum(0)),
  /** Why it is off when the platform turned it off: `three_failures_in_a_row`, `payment_method_removed`. */
  disabledReason: z.optional(z.string()),
});
export const AlertLevels = z.strictObject({ poolBelow: z.nullable(credits), walletBelow: z.nullable(credits) });
