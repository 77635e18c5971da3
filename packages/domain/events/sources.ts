import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import type { EventType } from './catalog';

/**
 * Which committed change is which event (API.md, Event webhooks): a pure reading of one table
 * stream record, its old and new images. Nothing here reads or writes; the producer
 * (produce.ts) turns each draft into deliveries. A change the catalog does not name (a meter
 * moving, a purchase created pending) is no event.
 */
export interface EventDraft {
  type: EventType;
  agencyId: string;
  /** When the change was made (epoch ms): the event's `createdAt` and its id's time. */
  at: number;
  data: Record<string, unknown>;
}

// biome-ignore lint/suspicious/noExplicitAny: a stream image of one of several item kinds, read field by field and parsed by the catalog (produce.ts)
type Image = Record<string, any>;

export function eventsOf(record: DynamoDBRecord): EventDraft[] {
  const raw = record.dynamodb?.NewImage;
  if (!raw || (record.eventName !== 'INSERT' && record.eventName !== 'MODIFY')) return [];
  const item = unmarshall(raw as never) as Image;
  const old = record.eventName === 'MODIFY' ? (unmarshall((record.dynamodb?.OldImage ?? {}) as never) as Image) : undefined;
  switch (item.kind) {
    case 'account':
      return item.type === 'sub_account' ? subAccountEvents(item, old) : [];
    case 'ledger_entry':
      // A grant is two entries (the wallet's +N, the pool's −N): the wallet's is the event.
      return !old && item.type === 'grant' && item.balanceKind === 'wallet' ? [grantEvent(item)] : [];
    case 'purchase':
      return old ? purchaseEvents(item, old) : [];
    case 'recharge_request':
      return old ? [] : [rechargeEvent(item)];
    case 'account_meter':
      return limitReached(item, old);
    case 'low_balance_alerted':
      // Written once per crossing: new, or replaced by the next crossing seen in one batch (alerts.ts).
      return item.agencyId && (!old || old.version !== item.version) ? [lowBalanceEvent(item)] : [];
    default:
      return [];
  }
}

const ms = (iso: unknown, fallback = Date.now()) => {
  const t = typeof iso === 'string' ? Date.parse(iso) : Number.NaN;
  return Number.isFinite(t) ? t : fallback;
};

/** The fields of a sub-account an agency set (what `sub_account.updated` reports); meters and bookkeeping are not. */
const profileFields = [
  'name',
  'email',
  'phone',
  'timezone',
  'website',
  'address',
  'features',
  'creditMode',
  'monthlyCreditLimit',
  'autoRecharge',
  'clientLogin',
] as const;

function subAccountView(a: Image) {
  return {
    subAccount: {
      id: a.id,
      name: a.name,
      email: a.email ?? null,
      status: a.status,
      creditMode: a.creditMode ?? 'manual',
      features: a.features ?? [],
      monthlyCreditLimit: a.monthlyCreditLimit ?? null,
      createdAt: a.createdAt,
      closedAt: a.closedAt ?? null,
    },
  };
}

function subAccountEvents(a: Image, old: Image | undefined): EventDraft[] {
  const base = { agencyId: String(a.agencyId), at: ms(a.updatedAt) };
  if (!old) return [{ ...base, at: ms(a.createdAt), type: 'sub_account.created', data: subAccountView(a) }];
  const out: EventDraft[] = [];
  if (old.status !== 'closed' && a.status === 'closed')
    out.push({ ...base, type: 'sub_account.closed', data: subAccountView(a) });
  if (old.status === 'closed' && a.status === 'active')
    out.push({ ...base, type: 'sub_account.reopened', data: subAccountView(a) });
  const changed = profileFields.filter((f) => JSON.stringify(old[f]) !== JSON.stringify(a[f]));
  if (changed.length) out.push({ ...base, type: 'sub_account.updated', data: { ...subAccountView(a), changed } });
  return out;
}

/** A limited sub-account's meter (meter.ts): the month's allowance given out to the last credit (a debit, or a lane setting the rest aside). */
function limitReached(m: Image, old: Image | undefined): EventDraft[] {
  const reached = m.monthlyCreditLimit !== undefined && m.meterRemaining === 0 && m.meterMonth === old?.meterMonth;
  if (!reached || !(Number(old?.meterRemaining) > 0)) return [];
  return [
    {
      agencyId: String(m.agencyId),
      at: ms(m.updatedAt),
      type: 'credit_limit.reached',
      data: { subAccountId: m.accountId, month: m.meterMonth, monthlyCreditLimit: m.monthlyCreditLimit },
    },
  ];
}

function grantEvent(e: Image): EventDraft {
  return {
    type: 'grant.created',
    agencyId: String(e.agencyId),
    at: ms(e.createdAt),
    data: {
      transactionId: e.id,
      subAccountId: e.subAccountId,
      credits: e.credits,
      balanceAfter: e.balanceAfter ?? null,
      reference: e.reference ?? null,
      requestId: e.requestId ?? null,
    },
  };
}

function purchaseView(p: Image) {
  return {
    id: p.id,
    accountId: p.accountId,
    balance: p.balance,
    status: p.status,
    credits: p.credits,
    amount: p.amount,
    currency: p.currency,
    trigger: p.trigger ?? 'manual',
    creditsRefunded: p.creditsRefunded ?? 0,
    creditsDisputed: p.creditsDisputed ?? 0,
    paidAt: p.paidAt ?? null,
  };
}

/**
 * A purchase's status steps: paid (an auto top-up's also says so as `auto_top_up.succeeded`),
 * refunded (each further refund too), disputed, and an auto top-up that failed.
 */
function purchaseEvents(p: Image, old: Image): EventDraft[] {
  const base = { agencyId: String(p.agencyId), at: ms(p.updatedAt) };
  const data = { purchase: purchaseView(p) };
  const out: EventDraft[] = [];
  const autoTopUp = p.trigger === 'auto_top_up';
  if (p.status === 'paid' && old.status !== 'paid' && !old.paidAt) {
    out.push({ ...base, type: 'purchase.paid', data });
    if (autoTopUp) out.push({ ...base, type: 'auto_top_up.succeeded', data });
  }
  if (p.status === 'refunded' && (old.status !== 'refunded' || (p.creditsRefunded ?? 0) > (old.creditsRefunded ?? 0)))
    out.push({ ...base, type: 'purchase.refunded', data });
  if (p.status === 'disputed' && old.status !== 'disputed') out.push({ ...base, type: 'purchase.disputed', data });
  if (autoTopUp && p.status === 'failed' && old.status !== 'failed')
    out.push({ ...base, type: 'auto_top_up.failed', data: { ...data, reason: p.failureReason ?? null } });
  return out;
}

function rechargeEvent(r: Image): EventDraft {
  return {
    type: 'recharge.requested',
    agencyId: String(r.agencyId),
    at: ms(r.createdAt),
    data: {
      requestId: r.id,
      subAccountId: r.subAccountId,
      balance: r.balanceAtTrigger,
      threshold: r.threshold,
      creditsRequested: r.creditsRequested,
      expiresAt: r.expiresAt,
    },
  };
}

function lowBalanceEvent(a: Image): EventDraft {
  return {
    type: a.balance === 'pool' ? 'pool.low' : 'wallet.low',
    agencyId: String(a.agencyId),
    at: ms(a.at),
    data: { accountId: a.accountId, credits: a.credits, level: a.level },
  };
}
