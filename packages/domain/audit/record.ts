import { AsyncLocalStorage } from 'node:async_hooks';
import { nowMs } from '#core/clock';
import { newId } from '#core/ids';
import {
  AUDIT_TTL_SECONDS,
  type AuditActor,
  type AuditChange,
  type AuditRecordItem,
  putAuditRecord,
} from '#db/items/audit-record';
import { itemKinds } from '#db/schema';
import type { NamedItem } from '#db/transact';
import type { Principal } from '../auth/principal';

/**
 * Who made the request being served, and from where: set once per HTTP request by the
 * pipeline (packages/http/handler.ts), so every use case can add the audit record to its own
 * transaction without each signature carrying the request.
 */
export interface AuditSource {
  actor: AuditActor;
  requestId: string;
  sourceIp: string;
}

const current = new AsyncLocalStorage<AuditSource>();

export function withAuditSource<T>(source: AuditSource, fn: () => Promise<T>): Promise<T> {
  return current.run(source, fn);
}

/** The assisting agency user is named, with the sub-account assisted, never hidden behind the client. */
export function auditActorOf(principal: Principal | undefined): AuditActor {
  switch (principal?.kind) {
    case 'agency_user':
    case 'sub_account_user':
      return { type: 'user', userId: principal.userId };
    case 'assist':
      return { type: 'assist', userId: principal.actorUserId, assistedAccountId: principal.accountId };
    case 'api_key':
      return { type: 'api_key', apiKeyId: principal.apiKeyId };
    default:
      return { type: 'platform' };
  }
}

/** What was changed and to what (`target.type`: sub_account, api_key, campaign, user, agency…). */
export interface AuditEntry {
  agencyId: string;
  action: string;
  target: { type: string; id: string };
  changes?: AuditChange[];
  /**
   * Who, where the request names no principal but the write proves one: the user signing up,
   * logging in, or spending an emailed token. Otherwise the request's principal.
   */
  actor?: AuditActor;
}

/**
 * The audit record of a write, as an item of that write's own transaction: both are written or
 * neither. Outside an HTTP request (the platform's own workers and scripts) the actor is the
 * platform. Callers list only fields that may be shown: secrets never reach here (a password
 * change is recorded by its action alone).
 */
export function audited(entry: AuditEntry): NamedItem<'audit'> {
  const source = current.getStore() ?? { actor: { type: 'platform' as const }, requestId: '', sourceIp: '' };
  const ms = nowMs();
  const record: AuditRecordItem = {
    kind: itemKinds.auditRecord,
    id: newId('auditRecord', ms),
    agencyId: entry.agencyId,
    at: new Date(ms).toISOString(),
    action: entry.action,
    target: entry.target,
    actor: entry.actor ?? source.actor,
    changes: entry.changes ?? [],
    requestId: source.requestId,
    sourceIp: source.sourceIp,
    ttl: Math.floor(ms / 1000) + AUDIT_TTL_SECONDS,
  };
  return putAuditRecord(record);
}

/**
 * The fields of `fields` whose value differs between `before` and `after` (absent → null), in
 * that order. Values compare as JSON, so arrays and objects count as changed only when they are.
 */
export function changesOf<T extends object>(
  before: Partial<T> | undefined,
  after: Partial<T>,
  fields: readonly (keyof T & string)[],
): AuditChange[] {
  const out: AuditChange[] = [];
  for (const field of fields) {
    const [b, a] = [before?.[field] ?? null, after[field] ?? null];
    if (JSON.stringify(b) !== JSON.stringify(a)) out.push({ field, before: b, after: a });
  }
  return out;
}
