import { createHash } from 'node:crypto';
import type { itemKinds } from '../../db/schema';
import type { Actor } from '../auth/principal';
import type { EntryType } from './schemas';

export type BalanceKind = 'pool' | 'wallet';

/** An immutable ledger entry; corrections are new entries. */
export interface LedgerEntryItem {
  kind: typeof itemKinds.ledgerEntry;
  id: string;
  agencyId: string;
  createdAt: string;
  type: EntryType;
  /** Signed: positive into a balance, negative out of it. */
  credits: number;
  balanceAfter: number;
  balanceKind: BalanceKind;
  /** The account the credits were used by or granted to (the agency itself for its own usage and top-ups). */
  accountId: string;
  subAccountId: string | null;
  contactId?: string;
  campaignId?: string;
  conversationId?: string;
  reference?: string;
  requestId?: string;
  actor: Actor;
  idempotencyKey: string;
  /** Fingerprint of the request that wrote it: a retry must match, another body is a 409. */
  requestHash: string;
}

/** The agency's view of an entry (transaction history, top-ups, grants). */
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
  };
}

/** The usage call's view: what was charged and why, never a balance (assist callers act as the client). */
export function usageEntryView(e: LedgerEntryItem) {
  return {
    id: e.id,
    createdAt: e.createdAt,
    type: e.type,
    credits: -e.credits,
    subAccountId: e.subAccountId,
    accountId: e.accountId,
    contactId: e.contactId ?? null,
    campaignId: e.campaignId ?? null,
    conversationId: e.conversationId ?? null,
    actor: e.actor,
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
