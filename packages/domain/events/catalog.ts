import { type IdKind, idPattern } from '#core/ids';
import * as z from '#core/zod';
import type { EventType } from '#db/vocabulary';

/**
 * The event catalog (API.md, Event webhooks): every type an endpoint can subscribe to, and the
 * `data` each carries, as zod schemas. The OpenAPI document's `webhooks` section is generated
 * from here (http/openapi.ts), and the producer's payloads are parsed with them before they
 * are stored, so a payload cannot drift from what is published.
 *
 * Versioned: every body says `version`; a change that removes or retypes a field is a new
 * version (added fields are not), published beside the old one.
 */
export const EVENT_VERSION = 1;

const id = (kind: IdKind) => z.string().check(z.regex(idPattern(kind)));
const timestamp = z.iso.datetime();
const credits = z.int().check(z.minimum(0));
const accountId = z.string().check(z.regex(new RegExp(`${idPattern('agency').source}|${idPattern('subAccount').source}`)));

const SubAccount = z.strictObject({
  id: id('subAccount'),
  name: z.string(),
  email: z.nullable(z.string()),
  status: z.enum(['active', 'closed']),
  creditMode: z.enum(['manual', 'reselling']),
  features: z.array(z.string()),
  monthlyCreditLimit: z.nullable(credits),
  createdAt: timestamp,
  closedAt: z.nullable(timestamp),
});

const Purchase = z.strictObject({
  id: id('purchase'),
  /** The buyer: a sub-account (its wallet) or the agency itself (its pool). */
  accountId,
  balance: z.enum(['pool', 'wallet']),
  status: z.enum(['paid', 'failed', 'refunded', 'disputed']),
  credits: z.int().check(z.minimum(1)),
  /** Minor units of `currency`. */
  amount: credits,
  currency: z.string(),
  trigger: z.enum(['manual', 'auto_top_up']),
  creditsRefunded: credits,
  creditsDisputed: credits,
  paidAt: z.nullable(timestamp),
});

const LowBalance = z.strictObject({
  accountId,
  /** The balance when it went below the alert level. */
  credits: z.int(),
  level: credits,
});

/** Each event type's `data`. */
export const eventData = {
  'sub_account.created': z.strictObject({ subAccount: SubAccount }),
  'sub_account.updated': z.strictObject({
    subAccount: SubAccount,
    /** The fields this change set (name, email, features, creditMode, monthlyCreditLimit, autoRecharge, clientLogin, …). */
    changed: z.array(z.string()),
  }),
  'sub_account.closed': z.strictObject({ subAccount: SubAccount }),
  'sub_account.reopened': z.strictObject({ subAccount: SubAccount }),
  'credit_limit.reached': z.strictObject({
    subAccountId: id('subAccount'),
    month: z.string(),
    monthlyCreditLimit: credits,
  }),
  'grant.created': z.strictObject({
    transactionId: id('transaction'),
    subAccountId: id('subAccount'),
    credits: z.int().check(z.minimum(1)),
    balanceAfter: z.nullable(z.int()),
    reference: z.nullable(z.string()),
    requestId: z.nullable(id('rechargeRequest')),
  }),
  'purchase.paid': z.strictObject({ purchase: Purchase }),
  'purchase.refunded': z.strictObject({ purchase: Purchase }),
  'purchase.disputed': z.strictObject({ purchase: Purchase }),
  'auto_top_up.succeeded': z.strictObject({ purchase: Purchase }),
  'auto_top_up.failed': z.strictObject({ purchase: Purchase, reason: z.nullable(z.string()) }),
  'pool.low': LowBalance,
  'wallet.low': LowBalance,
  'recharge.requested': z.strictObject({
    requestId: id('rechargeRequest'),
    subAccountId: id('subAccount'),
    balance: z.int(),
    threshold: credits,
    creditsRequested: z.int().check(z.minimum(1)),
    expiresAt: timestamp,
  }),
} as const satisfies Record<EventType, z.ZodMiniType>;

export { type EventType, eventTypes } from '#db/vocabulary';

/** The body every event is sent as (API.md): the envelope around its type's `data`. */
export const eventEnvelope = <T extends EventType>(type: T) =>
  z.strictObject({
    id: z.string().check(z.regex(/^evt_[0-9a-hjkmnp-tv-z]{26}$/)),
    type: z.literal(type),
    version: z.literal(EVENT_VERSION),
    createdAt: timestamp,
    agencyId: id('agency'),
    data: eventData[type],
  });

/** What each type announces, for the OpenAPI document. */
export const eventSummaries: Record<EventType, string> = {
  'sub_account.created': 'A sub-account was created',
  'sub_account.updated': 'A sub-account’s name, contact details, features, credit mode, limit or auto-recharge changed',
  'sub_account.closed': 'A sub-account was closed (its users can no longer log in; its history stays)',
  'sub_account.reopened': 'A closed sub-account became active again',
  'credit_limit.reached':
    'A sub-account used up its monthly credit limit (pool draws stop until the month ends or the limit rises)',
  'grant.created': 'Credits were granted to a sub-account’s wallet',
  'purchase.paid': 'A credit purchase was paid and its credits landed',
  'purchase.refunded': 'A paid purchase was refunded (in part or whole); the credits were taken back',
  'purchase.disputed': 'A paid purchase was disputed (a chargeback opened); the credits were taken back',
  'auto_top_up.succeeded': 'The pool’s auto top-up charged the saved card and the credits landed',
  'auto_top_up.failed': 'The pool’s auto top-up could not charge the saved card',
  'pool.low': 'The agency pool went below the agency’s alert level',
  'wallet.low': 'A sub-account’s wallet went below the agency’s alert level',
  'recharge.requested': 'A reselling sub-account’s wallet went below its auto-recharge threshold: a recharge request opened',
};
