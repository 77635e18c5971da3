import { createHash } from 'node:crypto';
import type { LedgerEntryItem } from '#db/items/ledger-entry';

/** An entry as the API shows it, the same everywhere (usage, top-ups, grants, the history): credits signed. */
export function entryView(e: LedgerEntryItem) {
  return {
    id: e.id,
    createdAt: e.createdAt,
    type: e.type,
    credits: e.credits,
    balanceAfter: e.balanceAfter,
    /** Which balance moved: the agency `pool` or the sub-account's `wallet`. */
    balanceType: e.balanceKind,
    accountId: e.accountId,
    subAccountId: e.subAccountId,
    contactId: e.contactId ?? null,
    campaignId: e.campaignId ?? null,
    conversationId: e.conversationId ?? null,
    reference: e.reference ?? null,
    requestId: e.requestId ?? null,
    actor: e.actor,
    /** Purchases and refunds: the money and Stripe's ids; null for every other entry. */
    payment: e.payment ?? null,
  };
}

/** A stable fingerprint of an operation's input (keys sorted, so field order does not matter). */
export function requestHash(operation: string, scopeId: string, body: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify([operation, scopeId, canonical(body)]))
    .digest('base64url');
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .filter(([, x]) => x !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, x]) => [k, canonical(x)]),
    );
  }
  return v;
}
