import { idBoundAt } from '#core/ids';
import { table } from '../client';
import { itemShape } from '../item-shape';
import { type Page, queryPage } from '../query';
import { itemKinds, type Key, keyPrefixes, stored } from '../schema';
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
const auditPartition = (agencyId: string) => `${keyPrefixes.audit}${agencyId}`;
const auditKey = (agencyId: string, id: string): Key => ({ pk: auditPartition(agencyId), sk: id });

/**
 * Each record is also on its target's own list (gsi2, newest first), so "who changed this
 * client's limit?" reads that target's records, not the agency's whole log: one index copy
 * (1 write unit per KB) per audited write, none on the debit path.
 */
const targetList = (agencyId: string, targetId: string) => `${keyPrefixes.audit}${agencyId}#TARGET#${targetId}`;

/**
 * As stored: the changes as JSON text, as campaigns keep their settings. A changed value can be
 * a client's own object (a campaign's settings), whose keys DynamoDB may refuse as attribute
 * names (an empty key is a ValidationException); text holds any of them.
 */
type StoredAuditRecord = Omit<AuditRecordItem, 'changes'> & { changesJson: string };
const storedAuditShape = itemShape<StoredAuditRecord>(
  itemKinds.auditRecord,
  { id: 'string', agencyId: 'string', at: 'string', action: 'string', target: 'object', actor: 'object' },
  { changesJson: 'string' },
);

function fromStored(item: StoredAuditRecord & { changes?: AuditChange[] }): AuditRecordItem {
  const { changesJson, ...rest } = item;
  return { ...rest, changes: changesJson === undefined ? (item.changes ?? []) : (JSON.parse(changesJson) as AuditChange[]) };
}

/** The record, as one item of the change's own transaction (never overwrites). */
export function putAuditRecord(record: AuditRecordItem): NamedItem<'audit'> {
  const { changes, ...rest } = record;
  const item: StoredAuditRecord = { ...rest, changesJson: JSON.stringify(changes) };
  return {
    name: 'audit',
    write: {
      Put: {
        TableName: table(),
        Item: stored(item, auditKey(record.agencyId, record.id), {
          gsi2pk: targetList(record.agencyId, record.target.id),
          gsi2sk: record.id,
        }),
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

/** A page of the agency's records (or one target's) between two instants (epoch ms), newest first; actor and action filtered as DynamoDB reads. */
export async function listAuditRecords(
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
  if (filter.action) {
    clauses.push('#action = :action');
    names['#action'] = 'action';
    values[':action'] = filter.action;
  }
  // A target's records are a list of their own (eventually consistent, as every index read).
  const found = await queryPage(
    {
      ...(filter.target
        ? { index: 'gsi2' as const, partition: targetList(agencyId, filter.target) }
        : { partition: auditPartition(agencyId), consistent: true }),
      sort: { between: [idBoundAt('auditRecord', range.fromMs, false), idBoundAt('auditRecord', range.toMs, true)] },
      filter: clauses.length ? { expression: clauses.join(' AND '), names, values } : undefined,
      newestFirst: true,
      ...page,
    },
    storedAuditShape,
  );
  return { ...found, items: found.items.map(fromStored) };
}
