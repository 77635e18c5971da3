import { idBoundAt } from '../../core/ids';
import { table } from '../client';
import { type Page, queryPage } from '../query';
import { type itemKinds, type Key, stored } from '../schema';
import type { NamedItem } from '../transact';

/**
 * One audited write: who, what (action, target, the changed fields before and after; never a
 * secret), when, and from which request. Written in the transaction of the change it records.
 *
 * Key layout: the agency's audit partition, sorted by the record's time-ordered id, so a time
 * range is a key range (`idBoundAt`) and reading by agency and time costs what it returns.
 * Kept 400 days (`ttl`). Audited writes are the agency's own administrative changes, not its
 * debits (ledger entries are their own audit), so one partition per agency stays far below
 * DynamoDB's 1,000 writes a second per partition.
 */
export interface AuditRecordItem {
  kind: typeof itemKinds.auditRecord;
  id: string;
  agencyId: string;
  at: string;
  action: string;
  target: { type: string; id: string };
  actor: AuditActor;
  changes: AuditChange[];
  requestId: string;
  sourceIp: string;
  /** Epoch seconds: DynamoDB deletes the record after this (400 days). */
  ttl: number;
}

export interface AuditActor {
  type: 'user' | 'api_key' | 'platform' | 'assist';
  userId?: string;
  apiKeyId?: string;
  /** Assist sessions: the sub-account the agency user (userId) acted as. */
  assistedAccountId?: string;
}

export interface AuditChange {
  field: string;
  before: unknown;
  after: unknown;
}

export const AUDIT_TTL_SECONDS = 400 * 24 * 60 * 60;

/** Its own prefix, so each function that audits is granted it by name (db/access.ts). */
const auditPartition = (agencyId: string) => `AUDIT#${agencyId}`;
const auditKey = (agencyId: string, id: string): Key => ({ pk: auditPartition(agencyId), sk: id });

/** The record, as one item of the change's own transaction (never overwrites). */
export function putAuditRecord(record: AuditRecordItem): NamedItem<'audit'> {
  return {
    name: 'audit',
    write: {
      Put: {
        TableName: table(),
        Item: stored(record, auditKey(record.agencyId, record.id)),
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    },
  };
}

export interface AuditFilter {
  /** A user id (the actor, or the agency user behind an assist session) or an API key id. */
  actor?: string;
  target?: string;
  action?: string;
}

/** A page of the agency's records between two instants (epoch ms), newest first, filtered as DynamoDB reads. */
export function listAuditRecords(
  agencyId: string,
  range: { fromMs: number; toMs: number },
  filter: AuditFilter,
  page: { limit: number; cursor?: string },
): Promise<Page<AuditRecordItem>> {
  const clauses: string[] = [];
  const values: Record<string, unknown> = {};
  const names: Record<string, string> = {};
  if (filter.actor) {
    clauses.push('(actor.userId = :actor OR actor.apiKeyId = :actor)');
    values[':actor'] = filter.actor;
  }
  if (filter.target) {
    clauses.push('#target.id = :target');
    names['#target'] = 'target';
    values[':target'] = filter.target;
  }
  if (filter.action) {
    clauses.push('#action = :action');
    names['#action'] = 'action';
    values[':action'] = filter.action;
  }
  return queryPage<AuditRecordItem>({
    partition: auditPartition(agencyId),
    sort: { between: [idBoundAt('auditRecord', range.fromMs, false), idBoundAt('auditRecord', range.toMs, true)] },
    filter: clauses.length ? { expression: clauses.join(' AND '), names, values } : undefined,
    newestFirst: true,
    consistent: true,
    ...page,
  });
}
