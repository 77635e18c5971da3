import { queryOptions } from '@tanstack/react-query';
import { api, call, type Schemas } from '../../api/client';

export const auditFilterNames = ['actor', 'target', 'action', 'from', 'to'] as const;
export type AuditFilters = Partial<Record<(typeof auditFilterNames)[number], string>>;

export const auditLogKeys = {
  all: ['audit-log'] as const,
  page: (filters: AuditFilters, cursor: string) => [...auditLogKeys.all, filters, cursor] as const,
};

/** One page of the log: the first page (no cursor) is shared by the filters' field errors and the table. */
export const auditPageOptions = (filters: AuditFilters, cursor: string) =>
  queryOptions({
    queryKey: auditLogKeys.page(filters, cursor),
    queryFn: async () =>
      // JSON here (the route also answers text/csv, hence the union in its type).
      (await call(
        api.GET('/v1/audit-log', { params: { query: { ...filters, limit: 50, ...(cursor ? { cursor } : {}) } } }),
      )) as Schemas['AuditLog'],
  });
