import * as z from '#core/zod';
import { type AuditRecordItem, listAuditRecords } from '#db/items/audit-record';
import { instant } from '../ledger/schemas';
import { timeRange } from '../ledger/time-range';
import { cursor, line } from '../text-fields';

export const auditLogQuery = z.strictObject({
  limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(200)), 50),
  cursor: z.optional(cursor(2048)),
  /** A user id (as actor, or behind an assist session) or an API key id. */
  actor: z.optional(line(64)),
  /** The id of the changed object (a sub-account, an API key, a campaign…). */
  target: z.optional(line(64)),
  action: z.optional(line(64)),
  from: z.optional(instant),
  to: z.optional(instant),
});
export type AuditLogQuery = z.infer<typeof auditLogQuery>;

/** A record as the API shows it: never its keys or TTL. */
export function auditRecordView(r: AuditRecordItem) {
  return {
    id: r.id,
    at: r.at,
    action: r.action,
    target: r.target,
    actor: r.actor,
    changes: r.changes,
    requestId: r.requestId,
    sourceIp: r.sourceIp,
  };
}
export type AuditRecordView = ReturnType<typeof auditRecordView>;

/** The agency's audit log, newest first: a time range is a key range, the other filters are read through. */
export async function listAuditLog(agencyId: string, q: AuditLogQuery) {
  const { start, end } = timeRange(q.from, q.to);
  const page = await listAuditRecords(
    agencyId,
    { fromMs: start, toMs: end },
    { actor: q.actor, target: q.target, action: q.action },
    { limit: q.limit, cursor: q.cursor },
  );
  return { items: page.items.map(auditRecordView), nextCursor: page.nextCursor };
}

const csvColumns = [
  'id',
  'at',
  'action',
  'targetType',
  'targetId',
  'actorType',
  'userId',
  'apiKeyId',
  'assistedAccountId',
  'changes',
  'requestId',
  'sourceIp',
] as const;

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  // Quote always; neutralise spreadsheet formulas.
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return `"${safe.replace(/"/g, '""')}"`;
}

/** One page of the log as CSV (RFC 4180, a header line); the next page's cursor travels in a header. */
export function auditCsv(items: AuditRecordView[]): string {
  const rows = items.map((r) => ({
    id: r.id,
    at: r.at,
    action: r.action,
    targetType: r.target.type,
    targetId: r.target.id,
    actorType: r.actor.type,
    userId: r.actor.userId,
    apiKeyId: r.actor.apiKeyId,
    assistedAccountId: r.actor.assistedAccountId,
    changes: r.changes,
    requestId: r.requestId,
    sourceIp: r.sourceIp,
  }));
  const lines = [csvColumns.join(','), ...rows.map((row) => csvColumns.map((c) => csvCell(row[c])).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}
